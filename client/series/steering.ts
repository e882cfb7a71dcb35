import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  addScenesUpdate,
  appendScenesSignal,
  cancelSignal,
  endOfScenesSignal,
  pauseSignal,
  raiseBudgetUpdate,
  resumeSignal,
  retrySceneUpdate,
  reviewTakeUpdate,
  setRoutingUpdate,
  type BudgetView,
  type NewScene,
  type RetryRequest,
  type ReviewRequest,
} from '../../workflows/messages';
import { resolveNewScenes, SCENE_DEFAULTS } from '../../workflows/scene-rules';
import type { seriesWorkflow } from '../../workflows/series/workflow';
import type { ProviderProfile, RoutingPolicy, SeriesInput } from '../../workflows/types';
import { prepareCast } from './characters';
import { SeriesNotFoundError, startOptions, type SeriesStartOptions } from './series-client';

/**
 * Steering a running series: one function per message (the CLI and the gateway both use these).
 * Updates are validated by the workflow; a refusal comes back as MessageRefusedError with the
 * workflow's own words (field and fix).
 */

export class MessageRefusedError extends Error {
  constructor(
    readonly workflowId: string,
    readonly messageName: string,
    message: string,
    /** The refusal's `ApplicationFailure.type` (workflows/series/refusals.ts), e.g. `SceneNotFinished`. */
    readonly refusal?: string,
  ) {
    super(message);
    this.name = 'MessageRefusedError';
  }
}

async function send<T>(workflowId: string, what: string, act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new SeriesNotFoundError(workflowId);
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      const refusal = err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
      throw new MessageRefusedError(workflowId, what, `${what} refused by ${workflowId}: ${cause}`, refusal);
    }
    throw err;
  }
}

const handle = (client: Client, workflowId: string) => client.workflow.getHandle<typeof seriesWorkflow>(workflowId);

export const pauseSeries = (client: Client, id: string, reason?: string) =>
  send(id, 'pause', () => handle(client, id).signal(pauseSignal, reason ? { reason } : {}));

export const resumeSeries = (client: Client, id: string) =>
  send(id, 'resume', () => handle(client, id).signal(resumeSignal));

export const cancelSeries = (client: Client, id: string, reason?: string) =>
  send(id, 'cancel', () => handle(client, id).signal(cancelSignal, reason ? { reason } : {}));

export const endOfScenes = (client: Client, id: string) =>
  send(id, 'endOfScenes', () => handle(client, id).signal(endOfScenesSignal));

export const addScenes = (client: Client, id: string, scenes: NewScene[]) =>
  send(id, 'addScenes', () => handle(client, id).executeUpdate(addScenesUpdate, { args: [scenes] }));

export const retryScene = (client: Client, id: string, request: RetryRequest) =>
  send(id, 'retryScene', () => handle(client, id).executeUpdate(retrySceneUpdate, { args: [request] }));

export const reviewTake = (client: Client, id: string, request: ReviewRequest) =>
  send(id, 'reviewTake', () => handle(client, id).executeUpdate(reviewTakeUpdate, { args: [request] }));

export const setRouting = (client: Client, id: string, routing: RoutingPolicy) =>
  send(id, 'setRouting', () => handle(client, id).executeUpdate(setRoutingUpdate, { args: [{ routing }] }));

export const raiseBudget = (client: Client, id: string, budgetUsd: number): Promise<BudgetView> =>
  send(id, 'raiseBudget', () => handle(client, id).executeUpdate(raiseBudgetUpdate, { args: [{ budgetUsd }] }));

/** Thrown before anything is sent: the scenes would be refused by the series. */
export class ScenesRefusedError extends Error {
  constructor(readonly problems: string[]) {
    super(`scenes refused:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ScenesRefusedError';
  }
}

export interface AppendOptions extends SeriesStartOptions {
  /** The series to start if it does not run yet. */
  input: SeriesInput;
  scenes: NewScene[];
  /** What the scenes are checked against. */
  profiles: ProviderProfile[];
}

/**
 * Signal-with-start: appends scenes to the series, starting it from `input` if it does not run
 * yet (a streaming series, so it waits for more). Scenes are checked here first, since a signal
 * has no validator to answer with.
 */
export async function appendScenes(
  client: Client,
  options: AppendOptions,
): Promise<{ workflowId: string; runId: string }> {
  const { input } = options;
  const checked = resolveNewScenes(options.scenes, 1, {
    providers: input.providers,
    profiles: options.profiles,
    defaults: input.defaults ?? SCENE_DEFAULTS,
    ...(input.cast ? { cast: input.cast.map((c) => c.name) } : {}),
  });
  if ('problems' in checked) throw new ScenesRefusedError(checked.problems);
  // A cast is in the library before the series may start (as startSeries does).
  const prepared = await prepareCast(client, input, options);
  const started = await client.workflow.signalWithStart<typeof seriesWorkflow, [NewScene[]]>('seriesWorkflow', {
    ...startOptions({ ...prepared, streaming: true }, options),
    signal: appendScenesSignal,
    signalArgs: [options.scenes],
  });
  return { workflowId: started.workflowId, runId: started.signaledRunId };
}
