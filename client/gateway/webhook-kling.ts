import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { BadRequestError, UnauthorizedError } from './errors';
import { verifyWebhook, webhookSecretKey } from './webhook-signature';

/**
 * Kling task callbacks (contracts/kling.md §5), verified before anything is believed: Standard
 * Webhooks signatures (the same verifier as the official contract's; 5 min tolerance, any of
 * several `v1,` signatures during a key rotation). Kling signs only once a Webhook Secret exists
 * in its console; an unsigned callback proves nothing, so without a secret every callback is
 * refused and polling alone finishes jobs.
 *
 * Kling calls on every status change: only the final ones (succeeded, failed) are events here;
 * a verified callback for `submitted` / `processing` returns undefined (acknowledge, do nothing).
 */

export interface KlingWebhookSettings {
  /** The console's Webhook Secret, `whsec_<base64>`; unset: callbacks cannot be verified. */
  secret?: string;
  /** The clock the timestamp is checked against (epoch ms); default now. */
  nowMs?: number;
}

export interface KlingWebhook {
  webhookId: string;
  /** Kling's task id (what submit returned as the job id). */
  jobId: string;
  event: 'completed' | 'failed';
}

/** Task ids are numeric strings (or JSON numbers in legacy bodies); nothing else can be ours. */
const TASK_ID = /^[A-Za-z0-9_-]{1,200}$/;
const taskId = z.union([z.string().regex(TASK_ID), z.number().int().nonnegative().transform(String)]);

/** The new-standard record (`id`, `status`) or the legacy one (`task_id`, `task_status`): both are parsed (§5). */
const callbackBody = z.union([
  z.looseObject({ id: taskId, status: z.string() }).transform((r) => ({ jobId: r.id, status: r.status })),
  z
    .looseObject({ task_id: taskId, task_status: z.string() })
    .transform((r) => ({ jobId: r.task_id, status: r.task_status })),
]);

const FINAL: Readonly<Record<string, KlingWebhook['event']>> = {
  succeeded: 'completed',
  succeed: 'completed',
  failed: 'failed',
};

/**
 * Verifies one callback: 401 (no secret set, stale, forged), 400 (headers or body garbled);
 * returns the finished job, or undefined for a verified status change that is not final.
 */
export function verifyKlingWebhook(
  headers: IncomingHttpHeaders,
  body: Buffer,
  settings: KlingWebhookSettings,
): KlingWebhook | undefined {
  if (!settings.secret) {
    throw new UnauthorizedError(
      'Kling callbacks are unsigned until a Webhook Secret exists: create one in the Kling console and export it in the variable named by kling.webhookSecretEnv; until then polling finishes the jobs',
    );
  }
  const key = webhookSecretKey(settings.secret, 'Kling webhook secret');
  const { webhookId } = verifyWebhook(headers, body, key, settings.nowMs);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError('the callback body is not JSON: Kling posts the task record as JSON');
  }
  const parsed = callbackBody.safeParse(json);
  if (!parsed.success)
    throw new BadRequestError(
      'the callback body is not a Kling task record (id and status, or task_id and task_status)',
    );
  const { jobId, status } = parsed.data;
  const event = FINAL[status];
  return event ? { webhookId, jobId, event } : undefined;
}
