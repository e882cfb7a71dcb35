import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { BadRequestError, UnauthorizedError } from './errors';

/**
 * Ark's task callbacks (seedance.md §5) carry the task object and no signature: anyone who knows
 * the URL can send one. So this only parses and checks the shape, and says the result is
 * unverified: a callback may only make the gateway query the task with the API key at once, never
 * end a scene by itself. Ark POSTs on every status change; only terminal ones are returned.
 */

export interface SeedanceWebhookSettings {
  /** Callbacks whose `updated_at` is older than this are refused as replays (default 1 day). */
  maxAgeSeconds?: number;
  /** Our clock (epoch ms); default Date.now. */
  nowMs?: number;
}

export interface SeedanceCallback {
  /** `<task id>:<status>`: Ark retries and may repeat a callback; dedupe on this. */
  webhookId: string;
  jobId: string;
  event: 'completed' | 'failed';
  /** Always false: the contract signs nothing. Query the task before acting. */
  verified: false;
}

const DEFAULT_MAX_AGE_SECONDS = 86_400;
/** A callback is a small JSON object; anything bigger is not Ark's. */
const MAX_BODY_BYTES = 256 * 1024;
const TASK_ID = /^cgt-[0-9]{14}-[A-Za-z0-9]{1,32}$/;

const callbackBody = z.object({
  id: z.string().regex(TASK_ID, { error: 'must be an Ark task id (cgt-<yyyymmddhhmmss>-<suffix>)' }),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'expired', 'cancelled'], {
    error: 'must be queued, running, succeeded, failed, expired or cancelled',
  }),
  updated_at: z.number({ error: 'must be unix seconds' }).int({ error: 'must be unix seconds' }).optional(),
  created_at: z.number({ error: 'must be unix seconds' }).int({ error: 'must be unix seconds' }).optional(),
});

const EVENT_BY_STATUS: Record<string, SeedanceCallback['event'] | undefined> = {
  succeeded: 'completed',
  failed: 'failed',
  expired: 'failed',
  cancelled: 'failed',
};

/**
 * The terminal callback as a hint (`verified: false`), undefined for a queued/running one (to be
 * acknowledged and ignored); BadRequestError for a body that is not an Ark task object,
 * UnauthorizedError for one too old to be a live callback.
 */
export function parseSeedanceCallback(
  headers: IncomingHttpHeaders,
  body: Buffer,
  settings: SeedanceWebhookSettings = {},
): SeedanceCallback | undefined {
  const type = String(headers['content-type'] ?? '');
  if (type && !/^application\/json\b/i.test(type))
    throw new BadRequestError(`content-type: Ark callbacks are application/json, got ${type}`);
  if (body.length > MAX_BODY_BYTES)
    throw new BadRequestError(`body: ${body.length} bytes is far larger than an Ark task callback`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError('body: not JSON; an Ark callback is the task object');
  }
  const parsed = callbackBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadRequestError(`${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  const task = parsed.data;
  const stampedAt = task.updated_at ?? task.created_at;
  const maxAge = settings.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const nowS = (settings.nowMs ?? Date.now()) / 1000;
  if (stampedAt !== undefined && nowS - stampedAt > maxAge)
    throw new UnauthorizedError(
      `callback for ${task.id} was last updated ${Math.round(nowS - stampedAt)} s ago; at most ${maxAge} s are taken (a replay, or the sender's clock is off)`,
    );
  const event = EVENT_BY_STATUS[task.status];
  if (!event) return undefined;
  return { webhookId: `${task.id}:${task.status}`, jobId: task.id, event, verified: false };
}
