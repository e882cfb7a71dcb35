/** The workflows the worker registers. */
export { seriesWorkflow } from './series/workflow';
export { sceneWorkflow } from './scene';
export { providerSlotsWorkflow } from './provider-slots';
