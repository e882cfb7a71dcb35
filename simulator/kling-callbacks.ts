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
import { CallbackPoster, type DeliveryRecord } from './callback-poster';
import type { SimulatorState } from './state';
import { signWebhook, webhookKey } from './webhooks';

export interface KlingCallbackOptions {
  /** `whsec_<base64>`, the console's Webhook Secret; unset: callbacks go unsigned. */
  secret?: string;
  retryDelaysMs?: number[];
  timeoutMs?: number;
}

export interface KlingCallbackDelivery extends DeliveryRecord {
  webhookId: string;
  taskId: string;
  status: string;
  signed: boolean;
}

const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000];
const DEFAULT_TIMEOUT_MS = 5000;

export class KlingCallbacks {
  private options: KlingCallbackOptions;
  private readonly poster = new CallbackPoster<KlingCallbackDelivery>('sora-series-simulator/kling-callbacks');

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
    return this.poster.deliveries();
  }

  /** A task was created with a callback URL: tell it of every status it goes through. */
  taskAccepted(job: Job, url: string): void {
    this.watch(job, url, undefined);
  }

  close(): void {
    this.poster.close();
  }

  private watch(job: Job, url: string, lastStatus: string | undefined): void {
    if (this.poster.isClosed || this.state.jobs.lookup(job.id) !== job) return;
    const record = videoTaskRecord(this.state, job);
    const status = String(record.status);
    if (status !== lastStatus) this.send(job.id, status, url, JSON.stringify(record));
    if (status === 'succeeded' || status === 'failed') return;
    const endsAt = finishesAtMs(job);
    // A stuck job never ends: once it is processing there is nothing more to tell.
    if (endsAt === null && status === 'processing') return;
    const nextChange =
      viewJob(job, this.state.now()).phase === 'queued' ? job.durationMs * 0.1 : (endsAt ?? 0) - this.state.now();
    this.poster.after(Math.max(50, Math.min(nextChange, 1000)), () => this.watch(job, url, status));
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
    const options = this.options;
    this.poster.post(delivery, body, {
      // each attempt is stamped with its own time and signed over it
      headers: (): Record<string, string> => {
        if (!options.secret) return {};
        const timestamp = Math.floor(Date.now() / 1000);
        return {
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(options.secret, webhookId, timestamp, body),
        };
      },
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    });
  }
}

function checked(options: KlingCallbackOptions): KlingCallbackOptions {
  if (options.secret !== undefined) webhookKey(options.secret); // throws WebhookConfigError naming the fix
  return { ...options };
}
