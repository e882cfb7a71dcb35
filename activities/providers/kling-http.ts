/**
 * One call to Kling: Bearer auth, JSON in and out, the `{code, message, data}` envelope opened
 * (a non-zero code is a failure even on HTTP 200), `data` checked with zod, failures sorted by
 * Kling's business code (kling-wire.ts).
 */
import type { z } from 'zod';
import { classifyThrown, contractViolation } from './errors';
import { classifyKlingFailure, envelope } from './kling-wire';
import { bearerRequest } from './bearer-request';
import { jsonOrUndefined } from './json-body';

export interface KlingCall<T> {
  method: 'GET' | 'POST';
  path: string;
  what: string;
  schema: z.ZodType<T>;
  body?: unknown;
}

export class KlingHttp {
  constructor(
    private readonly provider: string,
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
  ) {}

  async call<T>(call: KlingCall<T>): Promise<T> {
    let response: Response;
    try {
      response = await bearerRequest(`${this.baseUrl}${call.path}`, {
        method: call.method,
        apiKey: this.apiKey,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      throw classifyThrown(this.provider, err, [this.apiKey]);
    }
    const text = await response.text().catch((err: unknown) => {
      throw classifyThrown(this.provider, err, [this.apiKey]);
    });
    const json = jsonOrUndefined(text);
    const reply = envelope.safeParse(json);
    if (!response.ok || (reply.success && reply.data.code !== 0)) {
      throw classifyKlingFailure({
        provider: this.provider,
        status: response.status,
        ...(reply.success ? { klingCode: reply.data.code } : {}),
        message: reply.success ? (reply.data.message ?? undefined) : `HTTP ${response.status}: ${text.slice(0, 200)}`,
        retryAfter: response.headers.get('retry-after'),
        secrets: [this.apiKey],
      });
    }
    if (!reply.success)
      throw contractViolation(this.provider, call.what, json === undefined ? 'response is not JSON' : reply.error);
    const parsed = call.schema.safeParse(reply.data.data);
    if (!parsed.success) throw contractViolation(this.provider, call.what, parsed.error);
    return parsed.data;
  }
}
