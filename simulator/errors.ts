/**
 * Errors a route throws to answer with a non-2xx status. Each contract renders them in its own
 * shape (OpenAI's `{error:{message,type,param,code}}`, relay-v1's `{error:{code,message}}`), so
 * route code only says what went wrong, never how it is spelled on the wire.
 */

/** OpenAI's `type` field by status: what its own API uses for each class of failure. */
function openAiTypeFor(status: number): string {
  if (status === 401 || status === 400 || status === 404 || status === 409 || status === 413) {
    return 'invalid_request_error';
  }
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_exceeded';
  return 'server_error';
}

export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly type: string;

  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    type?: string,
    /** Extra response headers, e.g. `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.type = type ?? openAiTypeFor(status);
  }
}

/** 400: the request is malformed or breaks a rule of the contract. */
export class InvalidRequestError extends ApiError {
  override readonly name = 'InvalidRequestError';
  constructor(message: string, param: string | null = null, code: string | null = 'invalid_value') {
    super(400, code, message, param);
  }
}

/** 401: missing or wrong bearer key. */
export class AuthenticationError extends ApiError {
  override readonly name = 'AuthenticationError';
  constructor(code: string, message: string) {
    super(401, code, message);
  }
}

/** 404: unknown id or route. */
export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(code: string, message: string, param: string | null = null) {
    super(404, code, message, param);
  }
}

/** 413: we buffer bodies in memory, so refuse absurd ones instead of exhausting the process. */
export class BodyTooLargeError extends ApiError {
  override readonly name = 'BodyTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'request_too_large', `Request body exceeds ${limitBytes} bytes.`);
  }
}

/** A scenario given to `setScenario` or `POST /admin/scenario` does not match the format. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** OpenAI wire shape (`ErrorResponse` in the OpenAPI file). */
export function renderOpenAiError(error: ApiError): unknown {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

/** relay-v1 wire shape. */
export function renderRelayError(error: ApiError): unknown {
  return { error: { code: error.code ?? 'error', message: error.message } };
}

/** `startSimulator` was given options it cannot run with. */
export class SimulatorOptionsError extends Error {
  override readonly name = 'SimulatorOptionsError';
}
