/**
 * fal's error shapes (contracts/fal-queue.md §6): `{"detail": "..."}` at the HTTP layer, model
 * errors as `{"detail": [{loc, msg, type, url}]}` (422), request (infrastructure) errors as
 * `{"detail", "error_type"}` with an `X-Fal-Error-Type` header. Routes throw ApiErrors; this file
 * spells them the way fal does.
 */
import { ApiError } from './errors';

/** Request error types (infrastructure): rendered flat, with the header. */
const REQUEST_ERROR_TYPES = new Set([
  'request_timeout',
  'startup_timeout',
  'runner_scheduling_failure',
  'runner_connection_timeout',
  'runner_disconnected',
  'runner_connection_refused',
  'runner_connection_error',
  'runner_incomplete_response',
  'runner_server_error',
  'client_disconnected',
  'client_cancelled',
  'bad_request',
  'internal_error',
]);

/** A model's own error (422 unless told): `loc` names the input field. */
export class FalModelError extends ApiError {
  override readonly name = 'FalModelError';
  constructor(field: string, type: string, message: string, status = 422) {
    super(status, type, message, field);
  }
}

/** An infrastructure error, with `error_type` in the body and `X-Fal-Error-Type`. */
export function falRequestError(status: number, type: string, message: string): ApiError {
  return new ApiError(status, type, message, null, undefined, { 'x-fal-error-type': type });
}

export function renderFalError(error: ApiError): unknown {
  if (error instanceof FalModelError || (error.status === 422 && error.param)) {
    const type = error.code ?? 'value_error';
    return {
      detail: [
        { loc: ['body', error.param ?? 'body'], msg: error.message, type, url: `https://docs.fal.ai/errors#${type}` },
      ],
    };
  }
  if (error.code && REQUEST_ERROR_TYPES.has(error.code)) return { detail: error.message, error_type: error.code };
  return { detail: error.message };
}

/** What a suspended or locked fal account answers, in fal's words (contracts/fal-queue.md §6). */
export function falDownError(status: 401 | 403 | 404): ApiError {
  if (status === 401) return new ApiError(401, 'unauthorized', 'No user found for Key ID and Secret');
  if (status === 403)
    return new ApiError(
      403,
      'balance_exhausted',
      'User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing',
    );
  return new ApiError(404, 'not_found', 'Application not found');
}

/** fal's content checker refusing the prompt (the live 422 of the contract file). */
export function falModerationError(): ApiError {
  return new FalModelError(
    'prompt',
    'content_policy_violation',
    'The content could not be processed because it contained material flagged by a content checker.',
  );
}
