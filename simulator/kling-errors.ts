/**
 * Kling's error shape, `{code: <int>, message, request_id}` with the HTTP status following the
 * code (kling.md §6). Faults shared by every twin raise the simulator's generic codes; they are
 * spelled here as Kling would answer them.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from './errors';

/** An error the Kling routes raise with Kling's own code. */
export class KlingApiError extends ApiError {
  override readonly name = 'KlingApiError';
  constructor(
    status: number,
    readonly klingCode: number,
    message: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(status, String(klingCode), message, null, undefined, headers);
  }
}

export const klingError = (status: number, code: number, message: string) => new KlingApiError(status, code, message);

/** Generic simulator codes (faults, plumbing) as Kling's [status, code, message]. */
const GENERIC: Readonly<Record<string, [number, number, string?]>> = {
  rate_limit_exceeded: [429, 1302, 'Rate limit exceeded, please reduce request frequency'],
  concurrency_limit: [429, 1303, 'parallel task over resource pack limit'],
  insufficient_balance: [429, 1102, 'Account balance not enough'],
  internal_error: [500, 5000, 'Server internal error'],
  bad_gateway: [502, 5002, 'Server timeout, please try again later'],
  service_unavailable: [503, 5001, 'Server temporarily unavailable, usually due to maintenance'],
  invalid_api_key: [401, 1002, 'Authentication error: the API key is invalid'],
  token_invalidated: [401, 1002, 'Authentication error: the API key is invalid'],
  access_denied: [403, 1103, 'Account has no permission to access this API or model'],
  route_not_found: [404, 1203, 'Requested resource does not exist'],
  sentinel_block: [400, 1300, 'Request blocked by platform policy'],
  moderation_blocked: [400, 1301, 'The input failed the content-safety review'],
  request_too_large: [400, 1200, 'Request body too large'],
  invalid_json: [400, 1200, 'Invalid request: the body is not valid JSON'],
};

/** The Kling body for any ApiError, and the status it goes with. */
export function klingErrorOf(error: ApiError): { status: number; body: unknown } {
  const requestId = randomUUID();
  if (error instanceof KlingApiError)
    return { status: error.status, body: { code: error.klingCode, message: error.message, request_id: requestId } };
  const known = error.code ? GENERIC[error.code] : undefined;
  const [status, code, message] = known ?? [error.status, error.status >= 500 ? 5000 : 1201, undefined];
  return { status, body: { code, message: message ?? error.message, request_id: requestId } };
}

export function renderKlingError(error: ApiError): unknown {
  return klingErrorOf(error).body;
}
