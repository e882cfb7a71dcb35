/**
 * One fal HTTP call with `Authorization: Key <id:secret>`, a timeout, zod-checked JSON and
 * classified failures. It also tells a failure that happened before the request left (nothing
 * can have been bought) from one where the answer was lost after sending (fal may have queued
 * it), because fal's submit has no idempotency key and the two need different remedies.
 */
import type { z } from 'zod';
import { classifyThrown, contractViolation, ProviderError } from './errors';
import { classifyFalHttpFailure } from './fal-errors';
import { jsonOrUndefined } from './json-body';

export interface FalCall<T> {
  method: 'GET' | 'POST' | 'PUT' | 'HEAD';
  url: string;
  /** Names the call in errors: "submit", "request status". */
  what: string;
  schema: z.ZodType<T>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The URL names a request id: a 404 then means "unknown id", not "route gone". */
  addressesId?: boolean;
}

/** A 2xx or non-2xx answer with its body read: the result call keeps the model's status. */
export interface FalAnswer {
  status: number;
  headers: Headers;
  json: unknown;
  text: string;
}

/** The request may or may not have reached fal: its answer was lost on the way back. */
export class FalAnswerLostError extends Error {
  constructor(
    readonly reason: string,
    readonly classified: ProviderError,
  ) {
    super(reason);
    this.name = 'FalAnswerLostError';
  }
}

/** Connection failures that happen before a byte of the request is sent: nothing was bought. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export class FalHttp {
  constructor(
    private readonly provider: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
  ) {}

  get secrets(): string[] {
    // the secret half alone must not leak either
    return [this.apiKey, ...this.apiKey.split(':').filter((part) => part.length >= 8)];
  }

  /** A JSON call; non-2xx answers throw classified. With `lossMatters`, a lost answer throws FalAnswerLostError. */
  async json<T>(call: FalCall<T>, lossMatters = false): Promise<T> {
    const answer = await this.send(call, lossMatters);
    if (answer.status < 200 || answer.status > 299) throw this.failure(call, answer);
    return this.parse(call, answer);
  }

  /** The raw answer, whatever its status (the result call carries the model's own failure). */
  async send(call: Omit<FalCall<unknown>, 'schema'>, lossMatters = false): Promise<FalAnswer> {
    let response: Response;
    try {
      response = await fetch(call.url, {
        method: call.method,
        headers: {
          Authorization: `Key ${this.apiKey}`,
          Accept: 'application/json',
          ...(call.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...call.headers,
        },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.thrown(err, lossMatters);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw this.thrown(err, lossMatters);
    }
    const json = jsonOrUndefined(text);
    return { status: response.status, headers: response.headers, json, text };
  }

  parse<T>(call: Pick<FalCall<T>, 'what' | 'schema'>, answer: FalAnswer): T {
    if (answer.json === undefined) throw contractViolation(this.provider, call.what, 'response is not JSON');
    const parsed = call.schema.safeParse(answer.json);
    if (!parsed.success) throw contractViolation(this.provider, call.what, parsed.error);
    return parsed.data;
  }

  failure(call: Pick<FalCall<unknown>, 'addressesId'>, answer: FalAnswer): ProviderError {
    return classifyFalHttpFailure({
      provider: this.provider,
      status: answer.status,
      json: answer.json,
      text: answer.text,
      headers: answer.headers,
      addressesId: call.addressesId ?? false,
      secrets: this.secrets,
    });
  }

  private thrown(err: unknown, lossMatters: boolean): Error {
    const classified = classifyThrown(this.provider, err, this.secrets);
    if (!lossMatters) return classified;
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    if (cause?.code && NOT_SENT_CODES.has(cause.code)) return classified;
    // fetch refuses some URLs before connecting at all
    if (/^(bad port|invalid url)/i.test(cause?.message ?? '')) return classified;
    return new FalAnswerLostError(classified.message.replace(`${this.provider}: `, ''), classified);
  }
}
