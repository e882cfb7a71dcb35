/**
 * What the topology suites share: worker processes started and awaited as a group, which worker
 * ran which scene (read from the histories the server keeps), and how many upstream jobs were in
 * flight at once (read from the simulator's ledger).
 */
import type { Client } from '@temporalio/client';
import type { LedgerEntry } from '../../simulator/server';
import { waitFor } from '../chaos/chaos-kit';
import { exited, spawnWorker } from '../helpers/processes';

export type WorkerProcess = ReturnType<typeof spawnWorker>;

export const isReady = (child: WorkerProcess) => child.output().includes('"msg":"worker started"');
export const hasExited = (child: WorkerProcess) => child.exitCode !== null || child.signalCode !== null;

/** The worker identity the SDK reports by default: `<pid>@<hostname>`. */
export const identityPrefix = (child: WorkerProcess) => `${child.pid}@`;

/** A set of worker processes that are all stopped (SIGKILL) by `killAll`, whatever happened. */
export class WorkerGroup {
  readonly all = new Set<WorkerProcess>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** Spawns `count` workers at once and waits until each says it started (bundling takes a while). */
  async start(count: number, timeoutMs = 180_000): Promise<WorkerProcess[]> {
    const started = Array.from({ length: count }, () => {
      const child = spawnWorker(this.env);
      this.all.add(child);
      return child;
    });
    await waitFor(
      `${count} worker processes to start`,
      () => {
        for (const child of started) this.expectAlive(child);
        return started.every(isReady) ? true : undefined;
      },
      timeoutMs,
      100,
    );
    return started;
  }

  /** A worker that exited on its own is a failure of its own: stop with its output. */
  expectAlive(child: WorkerProcess): void {
    if (hasExited(child))
      throw new Error(
        `worker ${child.pid} exited on its own (${child.exitCode ?? child.signalCode}):\n${child.output()}`,
      );
  }

  async kill(child: WorkerProcess): Promise<void> {
    child.kill('SIGKILL');
    await exited(child);
  }

  async killAll(): Promise<void> {
    for (const child of this.all) {
      if (!hasExited(child)) child.kill('SIGKILL');
      await exited(child).catch(() => undefined);
    }
    this.all.clear();
  }
}

/**
 * One activity as the server recorded it. With retries, history keeps one ActivityTaskStarted per
 * activity, written when it closes: the identity and attempt of the LAST attempt, and the failure
 * that ended the attempt before it (a killed worker's attempt shows up only there).
 */
export interface ActivityRun {
  workflowId: string;
  activity: string;
  identity: string;
  attempt: number;
  /** Why the previous attempt ended, e.g. a heartbeat timeout after its worker was killed. */
  previousFailure?: string;
  outcome?: 'completed' | 'failed' | 'timed_out';
}

/**
 * Every closed activity in these workflows' histories, with the worker identity the server
 * recorded (ActivityTaskStarted.identity). Workflows that do not exist (yet) are skipped.
 */
export async function activityRuns(client: Client, workflowIds: string[]): Promise<ActivityRun[]> {
  const runs: ActivityRun[] = [];
  for (const workflowId of workflowIds) {
    let events;
    try {
      events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError' || /not found/i.test((err as Error).message)) continue;
      throw err;
    }
    const scheduled = new Map<number, string>();
    const started = new Map<number, ActivityRun>();
    for (const event of events) {
      const id = Number(event.eventId);
      const sched = event.activityTaskScheduledEventAttributes;
      if (sched) scheduled.set(id, sched.activityType?.name ?? '?');
      const start = event.activityTaskStartedEventAttributes;
      if (start) {
        const run: ActivityRun = {
          workflowId,
          activity: scheduled.get(Number(start.scheduledEventId)) ?? '?',
          identity: start.identity ?? '',
          attempt: start.attempt ?? 1,
          ...(start.lastFailure ? { previousFailure: start.lastFailure.message ?? '' } : {}),
        };
        started.set(id, run);
        runs.push(run);
      }
      const ended =
        (event.activityTaskCompletedEventAttributes &&
          (['completed', event.activityTaskCompletedEventAttributes] as const)) ||
        (event.activityTaskFailedEventAttributes && (['failed', event.activityTaskFailedEventAttributes] as const)) ||
        (event.activityTaskTimedOutEventAttributes &&
          (['timed_out', event.activityTaskTimedOutEventAttributes] as const));
      if (ended) {
        const run = started.get(Number(ended[1].startedEventId));
        if (run) run.outcome = ended[0];
      }
    }
  }
  return runs;
}

/** Scene workflow ids of a series (`<series id>/scene-<n>`, n from 1). */
export const sceneIds = (seriesWorkflowId: string, scenes: number) =>
  Array.from({ length: scenes }, (_, i) => `${seriesWorkflowId}/scene-${i + 1}`);

/** For each worker: the scenes (workflow ids) whose activities it ran. */
export function scenesPerWorker(runs: ActivityRun[], workers: WorkerProcess[]): Map<WorkerProcess, Set<string>> {
  const result = new Map<WorkerProcess, Set<string>>();
  for (const worker of workers) {
    result.set(
      worker,
      new Set(runs.filter((r) => r.identity.startsWith(identityPrefix(worker))).map((r) => r.workflowId)),
    );
  }
  return result;
}

/** An upstream job's life at the simulator: accepted at `start`, done at `end` (epoch ms). */
export interface JobInterval {
  start: number;
  end: number;
  idempotencyKey?: string;
}

/**
 * Job intervals from ledger entries. The simulator runs with `jitter: 0`, so every job takes
 * exactly `jobMs` from acceptance (`at`) to completion: the intervals are exact, not sampled.
 * Only completed jobs qualify (a failed job ends half-way, a stuck one never).
 */
export function jobIntervals(entries: LedgerEntry[], jobMs: number): JobInterval[] {
  return entries.map((e) => {
    if (e.finalStatus !== 'completed')
      throw new Error(`job ${e.jobId} (${e.idempotencyKey}) did not complete (${e.status}): its interval is not known`);
    const start = Date.parse(e.at);
    return { start, end: start + jobMs, idempotencyKey: e.idempotencyKey };
  });
}

/** The most intervals open at one instant; one ending exactly when another starts does not overlap it. */
export function maxInFlight(intervals: JobInterval[]): number {
  const events = intervals.flatMap((i) => [
    { at: i.start, delta: 1 },
    { at: i.end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta); // ends before starts at the same ms
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.delta;
    max = Math.max(max, open);
  }
  return max;
}
