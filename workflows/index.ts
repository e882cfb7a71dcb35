/** The workflows the worker registers. */
export { seriesWorkflow } from './series/workflow';
export { sceneWorkflow } from './scene';
export { episodeWorkflow } from './episode';
export { providerSlotsWorkflow } from './provider-slots';
export { characterWorkflow } from './character/workflow';
