/**
 * Ark's task callbacks (seedance.md §5): when a task with `callback_url` changes status (queued,
 * running, succeeded, failed, expired), the task object is POSTed there as JSON, unsigned. A
 * terminal callback not acknowledged (2xx within `timeoutMs`) is retried 3 times; `duplicates`
 * sends each terminal callback twice, as receivers must expect. Timers only say when to look: the
 * status itself comes from the clock (jobs.ts), so a stepped test clock works too.
 */
import { finishesAtMs, type Job } from './jobs';
import { statusOf, taskObject, type ArkStatus, type ArkTask } from './seedance-routes';
import { CallbackPoster, type DeliveryRecord } from './callback-poster';
import type { SimulatorState } from './state';

export interface SeedanceCallbackOptions {
  /** Pauses before each retry of an unacknowledged terminal callback (ms); default 500, 1000, 2000. */
  retryDelaysMs?: number[];
  /** How long a delivery may take before it counts as unacknowledged; default 5000 (Ark's 5 s). */
  timeoutMs?: number;
  /** Send every terminal callback twice. */
  duplicates?: boolean;
}

export interface SeedanceCallbackDelivery extends DeliveryRecord {
  taskId: string;
  status: ArkStatus;
}

const TERMINAL: ReadonlySet<ArkStatus> = new Set(['succeeded', 'failed', 'expired', 'cancelled']);
const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000];
const DEFAULT_TIMEOUT_MS = 5000;
const RECHECK_MS = 100;
const MAX_WAIT_MS = 1000;

export class SeedanceCallbackSender {
  private readonly poster = new CallbackPoster<SeedanceCallbackDelivery>('sora-series-simulator/ark-callbacks');

  constructor(
    private readonly state: SimulatorState,
    private readonly options: SeedanceCallbackOptions = {},
  ) {}

  deliveries(): SeedanceCallbackDelivery[] {
    return this.poster.deliveries();
  }

  /** A new task: `queued` at once, then each change of status as the clock reaches it. */
  taskCreated(job: Job, task: ArkTask): void {
    if (!task.callbackUrl) return;
    this.look(job, task, undefined);
  }

  close(): void {
    this.poster.close();
  }

  private look(job: Job, task: ArkTask, lastSent: ArkStatus | undefined): void {
    if (this.poster.isClosed || this.state.jobs.lookup(job.id) !== job) return; // forgotten by a reset
    const { status } = statusOf(this.state, job, task);
    if (status !== lastSent) {
      this.send(job, task, status);
      if (TERMINAL.has(status) && this.options.duplicates) this.send(job, task, status);
    }
    if (TERMINAL.has(status)) return;
    const next =
      status === 'queued' && job.stuck === undefined
        ? job.createdAtMs + job.durationMs * 0.1
        : (finishesAtMs(job) ?? job.createdAtMs + task.executionExpiresAfter * 1000);
    // at least once a second: a test clock may jump past the transition meanwhile
    const wait = Math.min(MAX_WAIT_MS, Math.max(RECHECK_MS, next - this.state.now()));
    this.poster.after(wait, () => this.look(job, task, status));
  }

  private send(job: Job, task: ArkTask, status: ArkStatus): void {
    const delivery: SeedanceCallbackDelivery = {
      taskId: job.id,
      status,
      url: task.callbackUrl!,
      attempts: 0,
      outcome: 'pending',
    };
    this.poster.post(delivery, JSON.stringify(taskObject(this.state, job, task)), {
      headers: () => ({}), // Ark signs nothing
      timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // only terminal callbacks are retried
      retryDelaysMs: TERMINAL.has(status) ? (this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS) : [],
    });
  }
}
