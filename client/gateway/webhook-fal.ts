import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { FAL_WEBHOOK_TOLERANCE_SECONDS, type ResolvedFalSettings } from '../../activities/providers/fal-config';
import { BadRequestError, UnauthorizedError } from './errors';

/**
 * fal's webhook verification (contracts/fal-queue.md §7): ED25519 over
 * `request_id \n user_id \n timestamp \n hex(sha256(raw body))`, hex in `X-Fal-Webhook-Signature`,
 * checked against every key of fal's JWKS, the timestamp within the tolerance either way, all
 * before the body is parsed. fal's clients have no helper for it; the simulator's twin signs with
 * its own key and serves its own JWKS, so a test of this against the twin proves the wire.
 */

/** Where the verifier gets fal's public keys; `refresh` is asked once when no key matches (rotation). */
export interface FalKeySource {
  keys(): Promise<KeyObject[]>;
  refresh?(): Promise<KeyObject[]>;
}

export interface FalWebhookSettings {
  keys: FalKeySource;
  toleranceSeconds?: number;
  nowMs?: number;
}

export interface FalWebhook {
  /** One per request: fal may deliver the same event more than once. */
  webhookId: string;
  jobId: string;
  event: 'completed' | 'failed';
}

/** A JWKS URL's keys, cached (fal: at most 24 h), fetched again when asked to and at most once a minute. */
export class FalJwks implements FalKeySource {
  private cached?: { keys: KeyObject[]; atMs: number };
  private pending?: Promise<KeyObject[]>;

  constructor(
    readonly url: string,
    private readonly options: { ttlMs?: number; minRefreshMs?: number; timeoutMs?: number; fetch?: typeof fetch } = {},
  ) {}

  keys(): Promise<KeyObject[]> {
    const ttl = this.options.ttlMs ?? 24 * 3600_000;
    if (this.cached && Date.now() - this.cached.atMs < ttl) return Promise.resolve(this.cached.keys);
    return this.load();
  }

  refresh(): Promise<KeyObject[]> {
    const minRefresh = this.options.minRefreshMs ?? 60_000;
    if (this.cached && Date.now() - this.cached.atMs < minRefresh) return Promise.resolve(this.cached.keys);
    return this.load();
  }

  private load(): Promise<KeyObject[]> {
    this.pending ??= fetchJwks(this.url, this.options.timeoutMs ?? 10_000, this.options.fetch ?? fetch)
      .then((keys) => {
        this.cached = { keys, atMs: Date.now() };
        return keys;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }
}

/** The verifier settings of one fal provider's config. */
export function falWebhookSettings(
  settings: Pick<ResolvedFalSettings, 'jwksUrl' | 'webhookToleranceSeconds'>,
): FalWebhookSettings {
  return { keys: new FalJwks(settings.jwksUrl), toleranceSeconds: settings.webhookToleranceSeconds };
}

/** The JWKS could not be read: the gateway cannot tell a real webhook from a forged one now. */
export class FalJwksError extends Error {
  override name = 'FalJwksError';
}

const jwksBody = z.object({
  keys: z.array(z.object({ kty: z.string(), crv: z.string().optional(), x: z.string().optional() }).passthrough()),
});

async function fetchJwks(url: string, timeoutMs: number, get: typeof fetch): Promise<KeyObject[]> {
  let json: unknown;
  try {
    const response = await get(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new FalJwksError(`fal JWKS ${url} answered HTTP ${response.status}`);
    json = await response.json();
  } catch (err) {
    if (err instanceof FalJwksError) throw err;
    throw new FalJwksError(`fal JWKS ${url} could not be read: ${(err as Error).message}`);
  }
  const parsed = jwksBody.safeParse(json);
  if (!parsed.success) throw new FalJwksError(`fal JWKS ${url} is not a JWKS ({"keys": [...]})`);
  const keys = parsed.data.keys
    .filter((k) => k.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.x === 'string')
    .map((k) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x! }, format: 'jwk' }));
  if (keys.length === 0) throw new FalJwksError(`fal JWKS ${url} holds no Ed25519 key`);
  return keys;
}

const HEADERS = {
  requestId: 'x-fal-webhook-request-id',
  userId: 'x-fal-webhook-user-id',
  timestamp: 'x-fal-webhook-timestamp',
  signature: 'x-fal-webhook-signature',
} as const;

const payload = z.object({ request_id: z.string().min(1), status: z.enum(['OK', 'ERROR']) });

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const one = Array.isArray(value) ? value[0] : value;
  if (!one)
    throw new BadRequestError(`missing header ${name}: fal signs webhooks with ${Object.values(HEADERS).join(', ')}`);
  return one;
}

/**
 * Verifies one fal webhook and says which request ended how. Throws BadRequestError (headers or
 * body garbled) or UnauthorizedError (stale, from the future, or signed by no key of the JWKS).
 */
export async function verifyFalWebhook(
  headers: IncomingHttpHeaders,
  body: Buffer,
  settings: FalWebhookSettings,
): Promise<FalWebhook> {
  const requestId = header(headers, HEADERS.requestId);
  const userId = header(headers, HEADERS.userId);
  const timestampText = header(headers, HEADERS.timestamp);
  const signatureText = header(headers, HEADERS.signature);
  if (!/^\d{1,12}$/.test(timestampText)) throw new BadRequestError(`${HEADERS.timestamp}: must be unix seconds`);
  if (!/^[0-9a-fA-F]{128}$/.test(signatureText))
    throw new BadRequestError(`${HEADERS.signature}: must be 64 bytes of hex (an ED25519 signature)`);
  const tolerance = settings.toleranceSeconds ?? FAL_WEBHOOK_TOLERANCE_SECONDS;
  const skew = (settings.nowMs ?? Date.now()) / 1000 - Number(timestampText);
  if (Math.abs(skew) > tolerance)
    throw new UnauthorizedError(
      `${HEADERS.timestamp} is ${Math.round(Math.abs(skew))} s ${skew > 0 ? 'old' : 'in the future'}; at most ${tolerance} s are accepted (check the sender's clock or fal.webhookToleranceSeconds)`,
    );
  const message = Buffer.from(
    `${requestId}\n${userId}\n${timestampText}\n${createHash('sha256').update(body).digest('hex')}`,
    'utf8',
  );
  const signature = Buffer.from(signatureText, 'hex');
  const signedBy = (keys: KeyObject[]) => keys.some((key) => verify(null, message, key, signature));
  if (!signedBy(await settings.keys.keys()) && !(settings.keys.refresh && signedBy(await settings.keys.refresh())))
    throw new UnauthorizedError(
      `${HEADERS.signature} does not match any key of fal's JWKS: check fal.jwksUrl of this provider`,
    );
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError('the body is not JSON');
  }
  const parsed = payload.safeParse(json);
  if (!parsed.success)
    throw new BadRequestError('the body is not a fal webhook ({request_id, status: OK|ERROR, payload})');
  if (parsed.data.request_id !== requestId)
    throw new BadRequestError(`request_id ${parsed.data.request_id} differs from ${HEADERS.requestId} ${requestId}`);
  return { webhookId: requestId, jobId: requestId, event: parsed.data.status === 'OK' ? 'completed' : 'failed' };
}
