/**
 * One call to Ark: Bearer auth, JSON in and out, bodies checked with zod, and every failure sorted
 * into the kinds by Ark's code (else by its HTTP status). For a create (`spends`), an answer that
 * may have been lost after Ark took the request is `AnswerLost`, never a retryable error.
 */
import type { z } from 'zod';
import { scrubSecrets } from '../../common/secrets';
import { classifyHttpFailure, classifyThrown, contractViolation, parseRetryAfterMs, ProviderError } from './errors';
import { AnswerLost, arkKind, causeCode, describeLoss, errorBody } from './seedance-wire';
import { bearerRequest } from './bearer-request';
import { jsonOrUndefined } from './json-body';

/** Connection errors raised before a byte was sent: nothing can have been created. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH']);

export interface ArkCall<T> {
  method: 'GET' | 'POST';
  path: string;
  what: string;
  schema: z.ZodType<T>;
  body?: string;
  addressesId?: boolean;
  timeoutMs?: number;
  /** A create: a missing or unreadable answer is `AnswerLost`, not a plain transient error. */
  spends?: boolean;
}

export class ArkHttp {
  constructor(
    private readonly provider: string,
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
  ) {}

  async call<T>(call: ArkCall<T>): Promise<T> {
    let response: Response;
    try {
      response = await bearerRequest(`${this.baseUrl}${call.path}`, {
        method: call.method,
        apiKey: this.apiKey,
        ...(call.body === undefined ? {} : { body: call.body }),
        timeoutMs: call.timeoutMs ?? this.timeoutMs,
      });
    } catch (err) {
      if (call.spends && !NOT_SENT.has(causeCode(err))) throw new AnswerLost(describeLoss(err));
      throw classifyThrown(this.provider, err, [this.apiKey]);
    }
    if (call.spends && (response.status === 502 || response.status === 504)) {
      await response.body?.cancel().catch(() => undefined);
      throw new AnswerLost(`HTTP ${response.status} from a proxy`);
    }
    if (!response.ok) throw await this.#failure(response, call.addressesId ?? false);
    let json: unknown;
    try {
      json = await response.json();
    } catch (err) {
      if (call.spends) throw new AnswerLost('the 2xx answer was unreadable');
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
        throw classifyThrown(this.provider, err);
      throw contractViolation(this.provider, call.what, 'response is not JSON');
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      if (call.spends) throw new AnswerLost('the 2xx answer carried no task id');
      throw contractViolation(this.provider, call.what, parsed.error);
    }
    return parsed.data;
  }

  async #failure(response: Response, addressesId: boolean): Promise<ProviderError> {
    const text = await response.text().catch(() => '');
    const json = jsonOrUndefined(text);
    const parsed = errorBody.safeParse(json);
    const code = parsed.success ? (parsed.data.error.code ?? undefined) : undefined;
    const message = parsed.success
      ? (parsed.data.error.message ?? code ?? `HTTP ${response.status}`)
      : `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    const retryAfter = response.headers.get('retry-after');
    const kind = arkKind(code);
    if (!kind || !code) {
      return classifyHttpFailure({
        provider: this.provider,
        status: response.status,
        ...(code ? { code } : {}),
        message,
        retryAfter,
        addressesId,
        contractShapedBody: parsed.success,
        secrets: [this.apiKey],
      });
    }
    const retryAfterMs = parseRetryAfterMs(retryAfter);
    return new ProviderError({
      kind,
      code,
      provider: this.provider,
      status: response.status,
      // Ark's code leads: it is what BytePlus support and the docs are searched by
      message: `${this.provider}: ${code}: ${scrubSecrets(message, [this.apiKey]).slice(0, 500)}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
}
