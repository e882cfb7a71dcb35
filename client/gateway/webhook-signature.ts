import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BadRequestError, UnauthorizedError } from './errors';

/**
 * Standard Webhooks verification, as the official contract signs (contracts README):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "${webhook-id}.${webhook-timestamp}.${body}">`,
 * key = base64 part of `whsec_<base64>`, timestamps within 300 s of our clock either way.
 * Written here rather than borrowed from the `openai` SDK so the gateway has no client object
 * and tells stale from forged; the simulator's independent signer and the SDK test the wire.
 */

export const WEBHOOK_TOLERANCE_SECONDS = 300;

export class WebhookSecretError extends Error {
  override name = 'WebhookSecretError';
}

/** The HMAC key of a `whsec_<base64>` secret; the error names where it came from, never its value. */
export function webhookSecretKey(secret: string, source: string): Buffer {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret.trim());
  const key = match ? Buffer.from(match[1], 'base64') : Buffer.alloc(0);
  if (key.length < 16)
    throw new WebhookSecretError(
      `${source}: must be whsec_<base64> of at least 16 bytes (as the provider's dashboard gives it)`,
    );
  return key;
}

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  const one = Array.isArray(value) ? value[0] : value;
  if (!one)
    throw new BadRequestError(
      `missing header ${name}: webhooks are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)`,
    );
  return one;
};

/** Throws 400 (headers missing or garbled) or 401 (stale, future, forged); returns the verified webhook id. */
export function verifyWebhook(
  headers: IncomingHttpHeaders,
  body: Buffer,
  key: Buffer,
  nowMs = Date.now(),
): { webhookId: string; timestamp: number } {
  const webhookId = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!/^\d{1,12}$/.test(timestampText)) throw new BadRequestError('webhook-timestamp: must be unix seconds');
  const timestamp = Number(timestampText);
  const skew = nowMs / 1000 - timestamp;
  if (skew > WEBHOOK_TOLERANCE_SECONDS)
    throw new UnauthorizedError(
      `webhook-timestamp is ${Math.round(skew)} s old; at most ${WEBHOOK_TOLERANCE_SECONDS} s are accepted (check the sender's clock)`,
    );
  if (-skew > WEBHOOK_TOLERANCE_SECONDS)
    throw new UnauthorizedError(
      `webhook-timestamp is ${Math.round(-skew)} s in the future; at most ${WEBHOOK_TOLERANCE_SECONDS} s are accepted (check the sender's clock)`,
    );
  const expected = createHmac('sha256', key).update(`${webhookId}.${timestampText}.`).update(body).digest();
  // Several space-separated `v1,<base64>` entries may come (key rotation): any one may match.
  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches)
    throw new UnauthorizedError(
      'webhook-signature does not match: check the webhook secret configured for this provider',
    );
  return { webhookId, timestamp };
}
