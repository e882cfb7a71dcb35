/**
 * recovery: scenes waiting on their jobs, the worker SIGKILLed (no shutdown, like a lost machine)
 * and a new worker process started at once. A scene has resumed when its awaitJob runs again, on
 * the new worker (a later attempt, started): Temporal must first notice the dead worker through
 * the missed heartbeats. Reported: the slowest scene, from the kill to its resumed wait.
 */
import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import type { BenchConfig } from '../config';
import { eventTimeMs, heartbeatTimeoutSeconds, historyOf } from '../histories';
import { sleep } from '../processes';
import { benchSeriesInput, completed, sceneWorkflowId, startBenchSeries } from '../series';
import type { BenchStack } from '../stack';

export interface RecoveryResult {
  secondsToResume: number;
}

export const RECOVERY_SIMULATOR = 'recovery';
export const RECOVERY_PROVIDER = 'steady';
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const EventType = temporal.api.enums.v1.EventType;

interface Waiting {
  attempt: number;
  startedMs: number;
}

/** The scene's awaitJob while it runs (attempt and start time, server clock), else undefined. */
async function waitingJob(client: Client, workflowId: string): Promise<Waiting | undefined> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const pending = description.raw.pendingActivities?.find(
    (a) => a.activityType?.name === 'awaitJob' && a.state === STARTED,
  );
  if (!pending?.lastStartedTime) return undefined;
  return { attempt: pending.attempt ?? 1, startedMs: eventTimeMs({ eventTime: pending.lastStartedTime }) };
}

/** A retried awaitJob that already finished shows up in history only: its started event carries the attempt. */
async function resumedInHistory(client: Client, workflowId: string, afterAttempt: number): Promise<number | undefined> {
  const events = await historyOf(client, workflowId);
  const started = events.find(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED &&
      (e.activityTaskStartedEventAttributes?.attempt ?? 1) > afterAttempt,
  );
  return started ? eventTimeMs(started) : undefined;
}

export async function recoveryCase(
  stack: BenchStack,
  config: BenchConfig,
): Promise<{ result: RecoveryResult; info: Record<string, number> }> {
  const { scenes } = config.recovery;
  const sim = stack.simulators.get(RECOVERY_SIMULATOR)!;
  const worker = stack.worker('recovery');
  const series = await startBenchSeries(
    stack.client,
    worker.taskQueue,
    benchSeriesInput({ label: 'recovery', provider: RECOVERY_PROVIDER, scenes, clipUrl: `${sim.url}/clips/mira.mp4` }),
  );
  const ids = Array.from({ length: scenes }, (_, i) => sceneWorkflowId(series.workflowId, i + 1));

  // Every scene waiting on its job before the kill.
  const before = new Map<string, Waiting>();
  const deadline = Date.now() + 120_000;
  while (before.size < scenes) {
    if (Date.now() > deadline) throw new Error(`only ${before.size} of ${scenes} scenes reached their wait`);
    for (const id of ids) {
      if (before.has(id)) continue;
      const waiting = await waitingJob(stack.client, id).catch(() => undefined);
      if (waiting) before.set(id, waiting);
    }
    await sleep(200);
  }

  worker.kill('SIGKILL');
  const killedAt = Date.now();
  const replacement = stack.replaceWorker('recovery');
  const replacementReady = replacement.ready(); // notes when it polls

  const resumedAt = new Map<string, number>();
  const resumeDeadline = killedAt + 180_000;
  while (resumedAt.size < scenes) {
    if (Date.now() > resumeDeadline)
      throw new Error(`only ${resumedAt.size} of ${scenes} scenes resumed within 180 s of the kill`);
    for (const id of ids) {
      if (resumedAt.has(id)) continue;
      const attempt = before.get(id)!.attempt;
      const waiting = await waitingJob(stack.client, id).catch(() => undefined);
      if (waiting && waiting.attempt > attempt) resumedAt.set(id, waiting.startedMs);
      else if (!waiting) {
        const fromHistory = await resumedInHistory(stack.client, id, attempt).catch(() => undefined);
        if (fromHistory !== undefined) resumedAt.set(id, fromHistory);
      }
    }
    await sleep(100);
  }
  await completed(series);
  const finishedAt = Date.now();
  await replacementReady;
  const heartbeatTimeout = heartbeatTimeoutSeconds(await historyOf(stack.client, ids[0]), 'awaitJob');
  const slowest = Math.max(...resumedAt.values());
  return {
    result: { secondsToResume: (slowest - killedAt) / 1000 },
    info: {
      scenes,
      heartbeatTimeoutSeconds: heartbeatTimeout,
      fastestResumeSeconds: (Math.min(...resumedAt.values()) - killedAt) / 1000,
      replacementStartSeconds: (replacement.startMs ?? NaN) / 1000,
      secondsToFinishAfterKill: (finishedAt - killedAt) / 1000,
    },
  };
}
