import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { activityLogContext } from '../activities/log-context';

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
