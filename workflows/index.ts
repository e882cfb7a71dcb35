/** The workflows the worker registers. */
export { seriesWorkflow } from './series';
export { sceneWorkflow } from './scene';
export { providerSlotsWorkflow } from './provider-slots';
