/**
 * recovery: scenes waiting on their jobs, the worker SIGKILLed (no shutdown, like a lost machine)
 * and a new worker process started at once. Waiting is the server's between checks (collectJob
 * retried by the server), so only checks in flight on the killed worker are stuck: each status
 * read takes `checkLatencyMs` here, so the kill cuts some. A scene waits again once its wait is no
 * longer held by the dead worker: scheduled on the server again (its stuck check timed out by the
 * heartbeat timeout), run by another worker, or done. Reported: the slowest scene, from the kill.
 */
import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import type { BenchConfig } from '../config';
import { heartbeatTimeoutSeconds, historyOf } from '../histories';
import { sleep } from '../processes';
import { benchSeriesInput, completed, sceneWorkflowId, startBenchSeries } from '../series';
import type { BenchStack } from '../stack';

export interface RecoveryResult {
  secondsToResume: number;
}

export const RECOVERY_SIMULATOR = 'recovery';
export const RECOVERY_PROVIDER = 'steady';
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** The scene's job wait now: undefined when it has none (not yet submitted, or done). */
async function jobWait(
  client: Client,
  workflowId: string,
): Promise<{ running: boolean; identity?: string } | undefined> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'collectJob');
  if (!pending) return undefined;
  return {
    running: pending.state === STARTED,
    ...(pending.lastWorkerIdentity ? { identity: pending.lastWorkerIdentity } : {}),
  };
}

export async function recoveryCase(
  stack: BenchStack,
  config: BenchConfig,
): Promise<{ result: RecoveryResult; info: Record<string, number> }> {
  const { scenes, checkLatencyMs } = config.recovery;
  const sim = stack.simulators.get(RECOVERY_SIMULATOR)!;
  sim.setScenario({
    contracts: { 'relay-v1': { endpoints: { task: { latencyMs: { min: checkLatencyMs, max: checkLatencyMs } } } } },
  });
  const worker = stack.worker('recovery');
  const series = await startBenchSeries(
    stack.client,
    worker.taskQueue,
    benchSeriesInput({ label: 'recovery', provider: RECOVERY_PROVIDER, scenes, clipUrl: `${sim.url}/clips/mira.mp4` }),
  );
  const ids = Array.from({ length: scenes }, (_, i) => sceneWorkflowId(series.workflowId, i + 1));
  const killedIdentity = `${worker.pid}@`;

  // Every scene waiting on its job, and at least one check in flight on the worker, before the kill.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`the ${scenes} scenes never all waited with a check in flight`);
    const waits = await Promise.all(ids.map((id) => jobWait(stack.client, id).catch(() => undefined)));
    if (waits.every((w) => w !== undefined) && waits.some((w) => w!.running && w!.identity?.startsWith(killedIdentity)))
      break;
    await sleep(100);
  }

  worker.kill('SIGKILL');
  const killedAt = Date.now();
  const replacement = stack.replaceWorker('recovery');
  const replacementReady = replacement.ready(); // notes when it polls

  const cutShort = new Set<string>();
  const resumedAt = new Map<string, number>();
  const resumeDeadline = killedAt + 180_000;
  while (resumedAt.size < scenes) {
    if (Date.now() > resumeDeadline)
      throw new Error(`only ${resumedAt.size} of ${scenes} scenes waited again within 180 s of the kill`);
    for (const id of ids) {
      if (resumedAt.has(id)) continue;
      const wait = await jobWait(stack.client, id).catch(() => undefined);
      const held = wait?.running && wait.identity?.startsWith(killedIdentity);
      if (held) cutShort.add(id);
      else resumedAt.set(id, Date.now());
    }
    await sleep(100);
  }
  sim.setScenario({});
  await completed(series);
  const finishedAt = Date.now();
  await replacementReady;
  const heartbeatTimeout = heartbeatTimeoutSeconds(await historyOf(stack.client, ids[0]), 'collectJob');
  const slowest = Math.max(...resumedAt.values());
  return {
    result: { secondsToResume: (slowest - killedAt) / 1000 },
    info: {
      scenes,
      checksCutByTheKill: cutShort.size,
      checkLatencyMs,
      heartbeatTimeoutSeconds: heartbeatTimeout,
      replacementStartSeconds: (replacement.startMs ?? NaN) / 1000,
      secondsToFinishAfterKill: (finishedAt - killedAt) / 1000,
    },
  };
}
