import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { activityLogContext } from '../activities/log-context';
import { WorkerSettingsError } from './activity-deps';

export interface SeriesWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A bundle built beforehand (bundling takes seconds): workers/workflow-bundle.ts, or the tests' own. */
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
  /**
   * Payload codecs (encryption) run in the worker's main thread, outside the sandbox; a
   * failureConverterPath is bundled, so a prebuilt workflowBundle must be built with it too.
   */
  dataConverter?: DataConverter;
  /** Workflows kept in memory between their tasks; `sdk`: the SDK's default (from the heap limit). */
  maxCachedWorkflows?: number | 'sdk';
}

/**
 * Workflows a worker keeps in memory (the sticky cache). The SDK sizes it from the heap limit,
 * about 1,000 on this machine's default heap, and each cached workflow is most of a worker's
 * memory; a waiting scene wakes a few times per job, and replaying its 22 events when it was
 * evicted costs little (npm run bench, memory, measures both).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;
export const MAX_CACHED_WORKFLOWS_ENV = 'SORA_SERIES_MAX_CACHED_WORKFLOWS';

/** The cache size from the environment: a whole number of at least 2, `sdk`, or unset (the default). */
export function maxCachedWorkflowsFromEnv(env: NodeJS.ProcessEnv = process.env): number | 'sdk' {
  const raw = env[MAX_CACHED_WORKFLOWS_ENV]?.trim();
  if (!raw) return DEFAULT_MAX_CACHED_WORKFLOWS;
  if (raw === 'sdk') return 'sdk';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2)
    throw new WorkerSettingsError(
      `${MAX_CACHED_WORKFLOWS_ENV}: must be a whole number of at least 2, or sdk (the SDK's own size); got "${raw}"`,
    );
  return n;
}

/** The worker that runs series and scene workflows and their activities. */
export function createSeriesWorker(options: SeriesWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(options.deps),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.maxCachedWorkflows === 'sdk'
      ? {}
      : { maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS }),
    // Series, scene, take, provider and job on every activity log line, the SDK's own included.
    interceptors: { activity: [activityLogContext] },
    // Scenes started before collectJob hold one awaitJob each for their whole job (200 capped a
    // worker at 202 scenes in flight); collectJob's checks hold a slot only while they run.
    maxConcurrentActivityTaskExecutions: 1000,
    // Lets a stopping worker finish its current polls, then cancels activities so shutdown ends on its own.
    shutdownGraceTime: '2 seconds',
    shutdownForceTime: '10 seconds',
  });
}
