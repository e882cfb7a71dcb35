/**
 * Kling's task callbacks: a POST of the task record to the create's `options.callback_url` each
 * time its status changes (submitted, processing, then succeeded or failed), as the callbacks
 * page says (kling.md §5). With a Webhook Secret set they are signed per Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<b64>`), with the same signer as the
 * official twin; without one they go unsigned, as Kling sends them before a secret exists.
 * Retries are undocumented: here a failed delivery is tried again after 0.5, 1 and 2 s.
 */
import { createHash } from 'node:crypto';
import { finishesAtMs, viewJob, type Job } from './jobs';
import { videoTaskRecord } from './kling-routes';
import type { SimulatorState } from './state';
import { signWebhook, webhookKey } from './webhooks';

export interface KlingCallbackOptions {
  /** `whsec_<base64>`, the console's Webhook Secret; unset: callbacks go unsigned. */
  secret?: string;
  retryDelaysMs?: number[];
  timeoutMs?: number;
}

export interface KlingCallbackDelivery {
  webhookId: string;
  taskId: string;
  status: string;
  url: string;
  signed: boolean;
  outcome: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastResult?: number | string;
}

const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000];
const DEFAULT_TIMEOUT_MS = 5000;
const MAX_KEPT = 1000;

export class KlingCallbacks {
  private options: KlingCallbackOptions;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: KlingCallbackDelivery[] = [];
  private closed = false;

  constructor(
    private readonly state: SimulatorState,
    options: KlingCallbackOptions = {},
  ) {
    this.options = checked(options);
  }

  /** Sign from now on with this secret (or stop signing with none). */
  configure(options: KlingCallbackOptions): void {
    this.options = checked(options);
  }

  deliveries(): KlingCallbackDelivery[] {
    return this.log.map((d) => ({ ...d }));
  }

  /** A task was created with a callback URL: tell it of every status it goes through. */
  taskAccepted(job: Job, url: string): void {
    this.watch(job, url, undefined);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private watch(job: Job, url: string, lastStatus: string | undefined): void {
    if (this.closed || this.state.jobs.lookup(job.id) !== job) return;
    const record = videoTaskRecord(this.state, job);
    const status = String(record.status);
    if (status !== lastStatus) this.send(job.id, status, url, JSON.stringify(record));
    if (status === 'succeeded' || status === 'failed') return;
    const endsAt = finishesAtMs(job);
    // A stuck job never ends: once it is processing there is nothing more to tell.
    if (endsAt === null && status === 'processing') return;
    const nextChange =
      viewJob(job, this.state.now()).phase === 'queued' ? job.durationMs * 0.1 : (endsAt ?? 0) - this.state.now();
    this.after(Math.max(50, Math.min(nextChange, 1000)), () => this.watch(job, url, status));
  }

  private send(taskId: string, status: string, url: string, body: string): void {
    const webhookId = createHash('sha256').update(`${taskId}\u0000${status}`).digest('hex').slice(0, 20);
    const delivery: KlingCallbackDelivery = {
      webhookId,
      taskId,
      status,
      url,
      signed: this.options.secret !== undefined,
      outcome: 'pending',
      attempts: 0,
    };
    this.log.push(delivery);
    if (this.log.length > MAX_KEPT) this.log.shift();
    void this.attempt(delivery, body, this.options);
  }

  private async attempt(delivery: KlingCallbackDelivery, body: string, options: KlingCallbackOptions): Promise<void> {
    delivery.attempts += 1;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature: Record<string, string> = options.secret
      ? {
          'webhook-id': delivery.webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(options.secret, delivery.webhookId, timestamp, body),
        }
      : {};
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...signature },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      delivery.lastResult = response.status;
      if (response.ok) {
        delivery.outcome = 'delivered';
        return;
      }
    } catch (error) {
      delivery.lastResult = error instanceof Error ? error.message : String(error);
    }
    const delay = (options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)[delivery.attempts - 1];
    if (delay === undefined || this.closed) {
      delivery.outcome = 'failed';
      return;
    }
    this.after(delay, () => void this.attempt(delivery, body, options));
  }

  private after(ms: number, run: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) run();
    }, ms);
    timer.unref(); // a pending callback must not keep a process (or jest) alive
    this.timers.add(timer);
  }
}

function checked(options: KlingCallbackOptions): KlingCallbackOptions {
  if (options.secret !== undefined) webhookKey(options.secret); // throws WebhookConfigError naming the fix
  return { ...options };
}
