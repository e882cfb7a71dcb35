/**
 * Official-contract webhooks: when a `/v1` job ends, POST `video.completed` / `video.failed` to
 * the configured URL, signed per Standard Webhooks as OpenAI signs them (contracts README):
 *
 *   webhook-id: evt_...   webhook-timestamp: <unix s>   webhook-signature: v1,<base64 HMAC-SHA256>
 *   body: {"id":"evt_...","object":"event","created_at":<s>,"type":"video.completed","data":{"id":"video_..."}}
 *
 * The signed content is `${id}.${timestamp}.${body}`, the key the base64 part of `whsec_<base64>`.
 * This signer is the upstream's and deliberately independent of the gateway's verifier, so a test
 * of one against the other (and against the `openai` SDK's `webhooks.unwrap`) proves the wire.
 *
 * Jobs still progress without timers (jobs.ts); a timer per accepted job only says when to look.
 * Deliveries never block a request: failed ones (network error, non-2xx) are retried with
 * backoff under the same event id, each attempt freshly timestamped and signed.
 */
import { createHash, createHmac } from 'node:crypto';
import { InvalidRequestError } from './errors';
import { jsonResponse, type Route, type SimRequest } from './http';
import { finishesAtMs, viewJob, type Job } from './jobs';
import type { SimulatorState } from './state';

export interface WebhookOptions {
  /** Where events are POSTed, e.g. http://127.0.0.1:7071/webhooks/official. */
  url: string;
  /** `whsec_<base64>`: the signing key, as OpenAI hands it out. */
  secret: string;
  /** Backoff before each retry (ms); default 500, 1000, 2000, 4000 (five attempts in all). */
  retryDelaysMs?: number[];
  /** Per-attempt timeout (ms); default 5000. */
  timeoutMs?: number;
}

export type WebhookEventType = 'video.completed' | 'video.failed';

export interface WebhookDelivery {
  eventId: string;
  type: WebhookEventType;
  videoId: string;
  /** When the job ended (simulator clock, epoch ms). */
  finishedAtMs: number;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** HTTP status of the last attempt, or the network error's message. */
  lastResult?: number | string;
  /** Wall clock of the first attempt and of the successful one (epoch ms). */
  firstAttemptAtMs?: number;
  deliveredAtMs?: number;
}

export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
}

const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
const DEFAULT_TIMEOUT_MS = 5000;
/** A clock stepped by a test may lag the timer; look again this much later. */
const RECHECK_MS = 100;
/** Deliveries kept for GET /admin/webhooks; the oldest go first. */
const MAX_KEPT_DELIVERIES = 1000;

/** The HMAC key of a `whsec_<base64>` secret; throws WebhookConfigError naming the fix. */
export function webhookKey(secret: string): Buffer {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  const key = match ? Buffer.from(match[1], 'base64') : Buffer.alloc(0);
  if (key.length === 0)
    throw new WebhookConfigError(
      `webhook.secret: must be whsec_<base64>, e.g. whsec_${Buffer.from('sixteen byte key').toString('base64')}`,
    );
  return key;
}

/** `v1,<base64>` over `${id}.${timestamp}.${body}` (Standard Webhooks, symmetric signature). */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** What is wrong with webhook options (named field and fix), or undefined. */
export function webhookOptionsProblem(options: WebhookOptions): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(options.url);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    return `webhook.url: must be an http(s) URL, got ${JSON.stringify(options.url)}`;
  try {
    webhookKey(options.secret);
  } catch (error) {
    return (error as Error).message;
  }
  const delays = options.retryDelaysMs ?? [];
  if (!delays.every((d) => Number.isFinite(d) && d >= 0))
    return 'webhook.retryDelaysMs: must be non-negative numbers of ms';
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) return 'webhook.timeoutMs: must be > 0';
  return undefined;
}

function checkedOptions(options: WebhookOptions): WebhookOptions {
  const problem = webhookOptionsProblem(options);
  if (problem) throw new WebhookConfigError(problem);
  return { ...options };
}

export class WebhookSender {
  private options?: WebhookOptions;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: WebhookDelivery[] = [];
  private closed = false;

  constructor(
    private readonly state: SimulatorState,
    options?: WebhookOptions,
  ) {
    this.configure(options);
  }

  /** Replace the target (validated), or turn webhooks off with undefined. Applies to jobs ending from now on. */
  configure(options: WebhookOptions | undefined): void {
    this.options = options ? checkedOptions(options) : undefined;
  }

  /** What GET /admin/webhooks shows; never the secret. */
  view(): { url: string | null; deliveries: WebhookDelivery[] } {
    return { url: this.options?.url ?? null, deliveries: this.deliveries() };
  }

  deliveries(): WebhookDelivery[] {
    return this.log.map((d) => ({ ...d }));
  }

  /** Called for every accepted job: official ones get a look at the moment they end. */
  jobAccepted(job: Job): void {
    if (job.contract !== 'official') return;
    const endsAt = finishesAtMs(job);
    if (endsAt !== null) this.after(endsAt - this.state.now(), () => this.jobMayHaveEnded(job));
  }

  /** Stops timers and retries; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private after(ms: number, run: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.closed) run();
      },
      Math.max(0, ms),
    );
    // A pending webhook must not keep a process (or jest) alive.
    timer.unref();
    this.timers.add(timer);
  }

  private jobMayHaveEnded(job: Job): void {
    // After a reset the store holds other jobs, possibly under the same (re-minted) ids.
    if (this.state.jobs.lookup(job.id) !== job) return;
    const view = viewJob(job, this.state.now());
    if (view.phase !== 'completed' && view.phase !== 'failed') {
      this.after(Math.max(RECHECK_MS, (finishesAtMs(job) ?? 0) - this.state.now()), () => this.jobMayHaveEnded(job));
      return;
    }
    const options = this.options;
    if (!options) return;
    const type: WebhookEventType = view.phase === 'completed' ? 'video.completed' : 'video.failed';
    const finishedAtMs = view.finishedAtMs ?? this.state.now();
    const eventId = `evt_${createHash('sha256').update(`${job.id}\u0000${type}\u0000${job.createdAtMs}`).digest('hex').slice(0, 32)}`;
    const body = JSON.stringify({
      id: eventId,
      object: 'event',
      created_at: Math.floor(finishedAtMs / 1000),
      type,
      data: { id: job.id },
    });
    const delivery: WebhookDelivery = { eventId, type, videoId: job.id, finishedAtMs, status: 'pending', attempts: 0 };
    this.log.push(delivery);
    if (this.log.length > MAX_KEPT_DELIVERIES) this.log.shift();
    void this.attempt(options, delivery, body);
  }

  private async attempt(options: WebhookOptions, delivery: WebhookDelivery, body: string): Promise<void> {
    delivery.attempts += 1;
    const now = Date.now();
    delivery.firstAttemptAtMs ??= now;
    // The timestamp is the attempt's wall clock: receivers compare it with theirs (300 s tolerance).
    const timestamp = Math.floor(now / 1000);
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'sora-series-simulator/webhooks',
          'webhook-id': delivery.eventId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(options.secret, delivery.eventId, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      delivery.lastResult = response.status;
      if (response.ok) {
        delivery.status = 'delivered';
        delivery.deliveredAtMs = Date.now();
        return;
      }
    } catch (error) {
      delivery.lastResult = error instanceof Error ? error.message : String(error);
    }
    const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const delay = delays[delivery.attempts - 1];
    if (delay === undefined || this.closed) {
      delivery.status = 'failed';
      return;
    }
    this.after(delay, () => void this.attempt(options, delivery, body));
  }
}

const webhookBodySchema = (req: SimRequest): WebhookOptions | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8') || '{}');
  } catch {
    throw new InvalidRequestError(
      'Body must be JSON: {"url", "secret"} or {} to turn webhooks off.',
      null,
      'invalid_json',
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidRequestError('Body must be a JSON object.', null, 'invalid_json');
  const { url, secret, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length)
    throw new InvalidRequestError(
      `Unknown field(s) ${Object.keys(rest).join(', ')}: give {"url", "secret"}.`,
      Object.keys(rest)[0],
      'unknown_parameter',
    );
  if (url === undefined && secret === undefined) return undefined;
  if (typeof url !== 'string' || typeof secret !== 'string')
    throw new InvalidRequestError(
      'Give both url and secret as strings, or {} to turn webhooks off.',
      null,
      'invalid_webhook',
    );
  return { url, secret };
};

/** `GET /admin/webhooks` (target and deliveries) and `POST /admin/webhooks` (`{url, secret}`, or `{}` for off). */
export function webhookAdminRoutes(sender: WebhookSender): Route[] {
  return [
    { name: 'webhooks', method: 'GET', pattern: /^\/webhooks$/, handle: () => jsonResponse(200, sender.view()) },
    {
      name: 'setWebhooks',
      method: 'POST',
      pattern: /^\/webhooks$/,
      handle: (req) => {
        try {
          sender.configure(webhookBodySchema(req));
        } catch (error) {
          if (error instanceof WebhookConfigError)
            throw new InvalidRequestError(error.message, null, 'invalid_webhook');
          throw error;
        }
        return jsonResponse(200, { url: sender.view().url });
      },
    },
  ];
}
