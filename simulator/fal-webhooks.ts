/**
 * fal's webhooks (contracts/fal-queue.md §7): when a request submitted with `?fal_webhook=<url>`
 * finishes, POST its outcome there, signed with ED25519 by the twin's own key, whose public half
 * it serves as a JWKS at `/fal/.well-known/jwks.json`:
 *
 *   X-Fal-Webhook-Request-Id, X-Fal-Webhook-User-Id, X-Fal-Webhook-Timestamp (unix s),
 *   X-Fal-Webhook-Signature: hex ED25519 over
 *     request_id \n user_id \n timestamp \n hex(sha256(body))
 *
 * Failed deliveries are retried (fal: 10 attempts within 2 hours; here faster by default), each
 * attempt freshly timestamped and signed; `duplicates` delivers every event twice, as fal may.
 * The signer is the upstream's, independent of the gateway's verifier (client/gateway/webhook-fal.ts).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { CallbackPoster, type DeliveryRecord } from './callback-poster';

export interface FalWebhookOptions {
  /** Backoff before each retry (ms); default 500 doubling, ten attempts in all. */
  retryDelaysMs?: number[];
  /** Per-attempt timeout (ms); default 5000. */
  timeoutMs?: number;
  /** Deliver every event twice (receivers must be idempotent). */
  duplicates?: boolean;
}

export interface FalWebhookDelivery extends DeliveryRecord {
  requestId: string;
  status: 'OK' | 'ERROR';
}

const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000];
const DEFAULT_TIMEOUT_MS = 5000;

/** The signed message of one delivery. */
export function falSignedMessage(requestId: string, userId: string, timestamp: number, body: Buffer | string): Buffer {
  const digest = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${digest}`, 'utf8');
}

export class FalWebhooks {
  readonly userId: string;
  readonly keyId: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly poster = new CallbackPoster<FalWebhookDelivery>('sora-series-simulator/fal-webhooks');

  constructor(
    private readonly options: FalWebhookOptions = {},
    seed = 1,
  ) {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.keyId = createHash('sha256')
      .update(this.publicKey.export({ format: 'der', type: 'spki' }))
      .digest('hex')
      .slice(0, 16);
    this.userId = `sim-user-${seed}`;
  }

  /** What `/fal/.well-known/jwks.json` serves. */
  jwks(): { keys: Array<Record<string, string>> } {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
    return { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: this.keyId, use: 'sig', alg: 'EdDSA' }] };
  }

  /** Headers for one attempt at `body`, signed now. */
  sign(requestId: string, body: string, nowMs = Date.now()): Record<string, string> {
    const timestamp = Math.floor(nowMs / 1000);
    const signature = sign(null, falSignedMessage(requestId, this.userId, timestamp, body), this.privateKey);
    return {
      'x-fal-webhook-request-id': requestId,
      'x-fal-webhook-user-id': this.userId,
      'x-fal-webhook-timestamp': String(timestamp),
      'x-fal-webhook-signature': signature.toString('hex'),
    };
  }

  deliveries(): FalWebhookDelivery[] {
    return this.poster.deliveries();
  }

  /** Calls `run` in `ms` (a pending webhook keeps nothing alive). */
  after(ms: number, run: () => void): void {
    this.poster.after(ms, run);
  }

  /** Sends one event (and its duplicate, if asked) with retries. */
  deliver(url: string, requestId: string, event: Record<string, unknown> & { status: 'OK' | 'ERROR' }): void {
    const body = JSON.stringify(event);
    const copies = this.options.duplicates ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delivery: FalWebhookDelivery = { requestId, status: event.status, url, outcome: 'pending', attempts: 0 };
      this.poster.post(delivery, body, {
        headers: () => this.sign(requestId, body),
        timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        retryDelaysMs: this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      });
    }
  }

  close(): void {
    this.poster.close();
  }
}
