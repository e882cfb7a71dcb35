import { ApplicationFailure } from '@temporalio/workflow';

/**
 * The `ApplicationFailure.type` of each way the series refuses a message, so callers can tell them
 * apart without reading the words. A refusal is always an ApplicationFailure: a plain Error thrown in
 * an update handler fails the workflow task instead of answering the caller.
 */
export const Refusal = {
  /** Cancelled, or its scenes are done: the series takes no new work. */
  closed: 'SeriesClosed',
  invalidScenes: 'InvalidScenes',
  unknownScene: 'UnknownScene',
  /** The scene is running, queued, or has no result yet. */
  sceneNotFinished: 'SceneNotFinished',
  invalidRetry: 'InvalidRetry',
  invalidReview: 'InvalidReview',
  invalidRouting: 'InvalidRouting',
  invalidBudget: 'InvalidBudget',
} as const;
export type RefusalType = (typeof Refusal)[keyof typeof Refusal];

/** Refuses with `field: problem; fix` lines (joined by `; `); retrying the same message cannot help. */
export function refuse(type: RefusalType, problems: string | string[]): never {
  throw ApplicationFailure.create({
    type,
    message: typeof problems === 'string' ? problems : problems.join('; '),
    nonRetryable: true,
  });
}
