/**
 * The one place where upstream failures become the project's error kinds. Both adapters feed
 * what they saw (status, code, message, Retry-After) through these functions, so a relay and
 * the official contract agree on what "unavailable" or "rejected" means, and workflows route on
 * `ApplicationFailure` types instead of upstream status words.
 */
import { ApplicationFailure } from '@temporalio/common';
import { scrubSecrets } from '../../common/secrets';
import { failureTypeOf } from '../../workflows/failures';
import type { ErrorKind } from '../../workflows/types';

/** Kinds a retry cannot fix: the workflow must fall back, report, or fix its request. */
const NON_RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set(['unavailable', 'rejected', 'invalid']);

export interface ProviderErrorInit {
  kind: ErrorKind;
  code: string;
  provider: string;
  message: string;
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
  /** Overrides the kind's retryability: a submit whose answer was lost must not be sent again blindly. */
  retryable?: boolean;
  /** The upstream may have accepted (and will bill) a job nobody knows the id of: counted, never hidden. */
  uncertainSubmission?: boolean;
}

/** An upstream failure, already classified. Messages never carry keys or auth headers. */
export class ProviderError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly provider: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly retryable?: boolean;
  readonly uncertainSubmission?: boolean;

  constructor(init: ProviderErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProviderError';
    this.kind = init.kind;
    this.code = init.code;
    this.provider = init.provider;
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.retryable !== undefined) this.retryable = init.retryable;
    if (init.uncertainSubmission) this.uncertainSubmission = true;
  }
}

/**
 * Upstream error codes whose meaning does not depend on the HTTP status they came with.
 * Codes not listed here fall back to the status (see `kindFromStatus`).
 */
const KIND_BY_CODE: Readonly<Record<string, ErrorKind>> = {
  // overload and upstream hiccups: another attempt may succeed
  processing_error: 'transient',
  server_error: 'transient',
  internal_error: 'transient',
  service_unavailable: 'transient',
  overloaded: 'transient',
  timeout: 'transient',
  network_error: 'transient',
  contract_violation: 'transient',
  // throttling
  rate_limit_exceeded: 'rate_limited',
  rate_limited: 'rate_limited',
  too_many_requests: 'rate_limited',
  concurrency_limit_exceeded: 'rate_limited',
  // the provider refuses us, not the content: fall back to another provider
  token_invalidated: 'unavailable',
  invalid_api_key: 'unavailable',
  unauthorized: 'unavailable',
  phone_number_required: 'unavailable',
  access_denied: 'unavailable',
  permission_denied: 'unavailable',
  forbidden: 'unavailable',
  cameo_permission_denied: 'unavailable',
  // the character died on this provider (revoked, source URL expired): same remedy as revoked
  cameo_not_found: 'unavailable',
  character_not_found: 'unavailable',
  sentinel_block: 'unavailable',
  route_suspended: 'unavailable',
  suspended: 'unavailable',
  route_not_found: 'unavailable',
  // the content itself is refused: retrying the same prompt or clip is pointless
  moderation_blocked: 'rejected',
  content_violation: 'rejected',
  content_policy_violation: 'rejected',
  human_likeness_not_allowed: 'rejected',
  // fal (fal-errors.ts): reference images gone from storage, a submit whose answer was lost, no balance
  character_reference_gone: 'unavailable',
  submit_uncertain: 'unavailable',
  balance_exhausted: 'unavailable',
};

/** For bodies without a known code: recognisable phrases seen in the wild. */
const KIND_BY_MESSAGE: ReadonlyArray<[RegExp, ErrorKind, string]> = [
  [/heavy load|overloaded|temporarily unavailable/i, 'transient', 'processing_error'],
  [/content (policy )?violation|moderation/i, 'rejected', 'content_violation'],
  [/human likeness|real person/i, 'rejected', 'human_likeness_not_allowed'],
  [/suspended/i, 'unavailable', 'route_suspended'],
  [/authentication token/i, 'unavailable', 'token_invalidated'],
];

export function kindFromStatus(status: number): ErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'unavailable';
  if (status === 408 || status >= 500) return 'transient';
  return 'invalid';
}

/** What an adapter saw when an HTTP call failed. */
export interface HttpFailure {
  provider: string;
  status: number;
  /** Upstream error code, if the body carried one. */
  code?: string;
  message?: string;
  /** `Retry-After` header (seconds or HTTP date). */
  retryAfter?: string | null;
  /** `retry-after-ms` header (OpenAI-compatible hosts). */
  retryAfterMsHeader?: string | null;
  /** The request addressed a job or character by id (so a 404 means "no such id"). */
  addressesId?: boolean;
  /** The body had the contract's error shape (so the route itself exists). */
  contractShapedBody?: boolean;
  /** Scrubbed from the message, in case an upstream echoes them. */
  secrets?: readonly string[];
}

/** Classifies a non-2xx HTTP response of either contract. */
export function classifyHttpFailure(failure: HttpFailure, now: number = Date.now()): ProviderError {
  const { provider, status } = failure;
  const message = truncate(scrubSecrets(failure.message || `HTTP ${status}`, failure.secrets));
  const retryAfterMs =
    parseRetryAfterMs(failure.retryAfterMsHeader ?? null, now, 'ms') ??
    parseRetryAfterMs(failure.retryAfter ?? null, now);
  const known = failure.code ? KIND_BY_CODE[failure.code] : undefined;
  let kind: ErrorKind;
  let code = failure.code || `http_${status}`;
  if (known) {
    kind = known;
  } else if (status === 404) {
    // A 404 from a live route names an id it does not know; a bare 404 means the route is gone.
    const unknownId = failure.addressesId && failure.contractShapedBody;
    kind = unknownId ? 'invalid' : 'unavailable';
    code = unknownId ? failure.code || 'not_found' : 'route_not_found';
  } else {
    const byMessage = failure.code ? undefined : matchMessage(message);
    const byStatus = kindFromStatus(status);
    // A phrase may sharpen a generic 4xx, or turn a 5xx into an outage ("suspended"), but never
    // soften throttling or auth failures, nor blame the content for a server error.
    const sharpens = byStatus === 'invalid' || (byStatus === 'transient' && byMessage?.[0] !== 'rejected');
    if (byMessage && sharpens) {
      [kind, code] = byMessage;
    } else {
      kind = byStatus;
    }
  }
  return new ProviderError({
    kind,
    code,
    provider,
    message: `${provider}: ${message}`,
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** Classifies the error a finished job reports (`status: failed`). */
export function classifyJobFailure(
  code: string | undefined,
  message: string | undefined,
): { kind: ErrorKind; code: string; message: string } {
  const text = truncate(message || code || 'job failed without a reason');
  if (code && KIND_BY_CODE[code]) return { kind: KIND_BY_CODE[code], code, message: text };
  const byMessage = matchMessage(text);
  if (byMessage) return { kind: byMessage[0], code: code || byMessage[1], message: text };
  // An unexplained failed job is worth another take, not a fallback.
  return { kind: 'transient', code: code || 'job_failed', message: text };
}

/** Splits relay error strings such as `moderation_blocked: ...` into code and message. */
export function splitCodedMessage(text: string): { code?: string; message: string } {
  const match = /^\s*([a-z][a-z0-9_]*)\s*:\s*(.*)$/s.exec(text);
  return match ? { code: match[1], message: match[2] || match[1] } : { message: text };
}

/**
 * Classifies anything thrown while talking to an upstream that is not an HTTP response:
 * connection refused, DNS, timeouts, aborted streams. All are transient.
 */
export function classifyThrown(provider: string, err: unknown, secrets: readonly string[] = []): ProviderError {
  if (err instanceof ProviderError) return err;
  const name = err instanceof Error ? err.name : '';
  const text = scrubSecrets(describe(err), secrets);
  const timedOut = name === 'TimeoutError' || name === 'APIConnectionTimeoutError' || /timed? ?out/i.test(text);
  const code = timedOut ? 'timeout' : 'network_error';
  // no `cause`: undici errors can carry the request, headers included
  return new ProviderError({ kind: 'transient', code, provider, message: `${provider}: ${truncate(text)}` });
}

/** A 2xx body that breaks the contract: likely a broken deploy upstream, so transient. */
export function contractViolation(provider: string, what: string, detail: string | SchemaIssues): ProviderError {
  if (typeof detail !== 'string') detail = describeIssues(detail);
  return new ProviderError({
    kind: 'transient',
    code: 'contract_violation',
    provider,
    message: `${provider}: ${what} broke the contract: ${truncate(detail)}`,
  });
}

/**
 * `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); `retry-after-ms`
 * is milliseconds. Returns undefined for anything unparseable or absent.
 */
export function parseRetryAfterMs(
  value: string | null | undefined,
  now: number = Date.now(),
  unit: 's' | 'ms' = 's',
): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return Math.round(unit === 'ms' ? n : n * 1000);
  }
  // Date.parse is lenient ("-5" is a year): only try strings shaped like an HTTP date
  if (unit === 'ms' || !/^[A-Za-z]{3},? /.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Turns a classified error into the failure workflows route on. No cause: it may hold headers. */
export function toApplicationFailure(err: ProviderError): ApplicationFailure {
  const message = scrubSecrets(err.message);
  const retryable = err.retryable ?? !NON_RETRYABLE_KINDS.has(err.kind);
  const uncertain = err.uncertainSubmission ? { uncertainSubmission: true } : {};
  return ApplicationFailure.create({
    message,
    type: failureTypeOf[err.kind],
    nonRetryable: !retryable,
    details: [{ kind: err.kind, code: err.code, provider: err.provider, message, ...uncertain }],
    // The server's own estimate beats the retry policy's backoff (a 503 may send one too).
    ...(retryable && err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
  });
}

/** The part of a zod error worth showing: where the body broke the schema. */
export interface SchemaIssues {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}

function describeIssues({ issues }: SchemaIssues): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}

function matchMessage(message: string): [ErrorKind, string] | undefined {
  for (const [pattern, kind, code] of KIND_BY_MESSAGE) {
    if (pattern.test(message)) return [kind, code];
  }
  return undefined;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the useful part ("ECONNREFUSED 127.0.0.1:1") in `cause`
  const cause = (err as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? `: ${(cause as { code?: string }).code ?? cause.message}` : '';
  return `${err.message}${causeText}`;
}

function truncate(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
