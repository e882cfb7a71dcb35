/**
 * fal's error bodies (contracts/fal-queue.md §6) sorted into the project's kinds: the HTTP layer's
 * `{"detail": "..."}`, model errors' `{"detail": [{loc, msg, type, url}]}`, and request
 * (infrastructure) errors' `{"detail", "error_type"}` with `X-Fal-Error-Type`. Everything ends in
 * errors.ts's classifiers, so fal agrees with the other contracts on what each kind means.
 */
import { z } from 'zod';
import { classifyHttpFailure, classifyJobFailure, ProviderError } from './errors';
import type { ErrorKind } from '../../workflows/types';
import { CHARACTER_REFERENCE_GONE } from '../../workflows/failures';

/** A character's reference image is no longer on fal's storage: make the handle again. */
export const REFERENCE_GONE = CHARACTER_REFERENCE_GONE;
/** A submit whose answer was lost and whose request fal's request list does not show (yet). */
export const SUBMIT_UNCERTAIN = 'submit_uncertain';

/**
 * The character's reference images are gone from fal's storage (expired or deleted). The handle
 * is dead on fal, like a revoked element elsewhere: the series should make it again from the
 * stills, once. Thrown before anything is spent, or reported by a job whose model could not
 * fetch them.
 */
export class FalReferenceGoneError extends ProviderError {
  constructor(
    provider: string,
    readonly urls: string[],
  ) {
    super({
      kind: 'unavailable',
      code: REFERENCE_GONE,
      provider,
      message: `${provider}: ${urls.length} reference image(s) of the character are gone from fal storage; create the character on ${provider} again`,
    });
    this.name = 'FalReferenceGoneError';
  }
}

/**
 * fal has no idempotency key: a submit whose answer was lost may have bought a take. It is not
 * sent again (that could pay twice); the take is given up on this provider and counted as an
 * uncertain submission.
 */
export class FalSubmitUncertainError extends ProviderError {
  constructor(
    provider: string,
    readonly reason: string,
  ) {
    super({
      kind: 'unavailable',
      code: SUBMIT_UNCERTAIN,
      provider,
      uncertainSubmission: true,
      message: `${provider}: the submit's answer was lost (${reason}) and fal's request list does not show the request; it may have been accepted and billed, so it is not sent again`,
    });
    this.name = 'FalSubmitUncertainError';
  }
}

const modelError = z.object({
  loc: z.array(z.union([z.string(), z.number()])).nullish(),
  msg: z.string().nullish(),
  type: z.string().nullish(),
});
export const falErrorBody = z.object({
  detail: z.union([z.string(), z.array(modelError)]).nullish(),
  error_type: z.string().nullish(),
});
type FalErrorBody = z.infer<typeof falErrorBody>;

/** Request error types (infrastructure) by what a later attempt can do about them. */
const REQUEST_ERROR_KINDS: Readonly<Record<string, ErrorKind>> = {
  request_timeout: 'transient',
  startup_timeout: 'transient',
  runner_scheduling_failure: 'transient',
  runner_connection_timeout: 'transient',
  runner_disconnected: 'transient',
  runner_connection_refused: 'transient',
  runner_connection_error: 'transient',
  runner_incomplete_response: 'transient',
  runner_server_error: 'transient',
  internal_error: 'transient',
  client_disconnected: 'transient',
  client_cancelled: 'transient',
  bad_request: 'invalid',
};

/** Model error types; anything else falls back to its status. */
const MODEL_ERROR_KINDS: Readonly<Record<string, ErrorKind>> = {
  content_policy_violation: 'rejected',
  image_too_large: 'invalid',
  image_too_small: 'invalid',
};

/** Fields whose download failure means a character's reference image is gone. */
const REFERENCE_FIELDS = /^(image_urls|elements|frontal_image_url|reference_image_urls)$/;

export interface FalFailure {
  code?: string;
  message: string;
  kind?: ErrorKind;
  /** Where in the input a model error points (`image_urls`, `prompt`). */
  field?: string;
}

/** Code, message and (where fal's own types tell) kind of an error body; the body may be anything. */
export function readFalError(json: unknown, errorTypeHeader?: string | null): FalFailure | undefined {
  const parsed = falErrorBody.safeParse(json);
  if (!parsed.success) return undefined;
  return fromBody(parsed.data, errorTypeHeader ?? undefined);
}

function fromBody(body: FalErrorBody, errorTypeHeader: string | undefined): FalFailure | undefined {
  const requestType = body.error_type ?? errorTypeHeader;
  const detail = body.detail;
  if (Array.isArray(detail)) {
    const first = detail[0];
    if (!first) return undefined;
    const field = first.loc?.filter((part) => part !== 'body').map(String)[0];
    const type = first.type ?? undefined;
    const message = [field, first.msg ?? type].filter(Boolean).join(': ');
    if (type === 'file_download_error' && field && REFERENCE_FIELDS.test(field))
      return { code: REFERENCE_GONE, kind: 'unavailable', message, field };
    return {
      ...(type ? { code: type } : {}),
      message,
      ...(type && MODEL_ERROR_KINDS[type] ? { kind: MODEL_ERROR_KINDS[type] } : {}),
      ...(field ? { field } : {}),
    };
  }
  if (typeof detail !== 'string' && !requestType) return undefined;
  const message = typeof detail === 'string' ? detail : requestType!;
  if (requestType)
    return {
      code: requestType,
      message,
      ...(REQUEST_ERROR_KINDS[requestType] ? { kind: REQUEST_ERROR_KINDS[requestType] } : {}),
    };
  if (/exhausted balance|top up your balance/i.test(message))
    return { code: 'balance_exhausted', kind: 'unavailable', message };
  if (/no user found|invalid key/i.test(message)) return { code: 'unauthorized', kind: 'unavailable', message };
  return { message };
}

export interface FalHttpFailure {
  provider: string;
  status: number;
  json: unknown;
  text: string;
  headers: Headers;
  addressesId: boolean;
  secrets: readonly string[];
}

/** A non-2xx answer of any fal call as a classified ProviderError. */
export function classifyFalHttpFailure(failure: FalHttpFailure): ProviderError {
  const { provider, status, headers } = failure;
  const read = readFalError(failure.json, headers.get('x-fal-error-type'));
  const classified = classifyHttpFailure({
    provider,
    status,
    ...(read?.code ? { code: read.code } : {}),
    message: read?.message ?? `HTTP ${status}${failure.text ? `: ${failure.text.slice(0, 200)}` : ''}`,
    retryAfter: headers.get('retry-after'),
    addressesId: failure.addressesId,
    contractShapedBody: read !== undefined,
    secrets: failure.secrets,
  });
  // fal's own types say more than a status or a generic code table can.
  if (!read?.kind || read.kind === classified.kind) return classified;
  return new ProviderError({
    kind: read.kind,
    code: classified.code,
    provider,
    status,
    message: classified.message,
    ...(classified.retryAfterMs !== undefined ? { retryAfterMs: classified.retryAfterMs } : {}),
  });
}

/** How a finished request failed, from its result's error answer or its status's error fields. */
export function falJobFailure(
  status: number | undefined,
  read: FalFailure | undefined,
): { kind: ErrorKind; code: string; message: string } {
  const base = classifyJobFailure(read?.code, read?.message);
  if (read?.kind) return { ...base, kind: read.kind };
  // a 4xx from the model with no type we know is about our input: another take would fail alike
  if (status !== undefined && status >= 400 && status < 500 && !read?.code?.match(/moderation|content/))
    return { ...base, kind: 'invalid' };
  return base;
}
