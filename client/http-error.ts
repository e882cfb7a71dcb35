/**
 * What the project's HTTP servers (the gateway, the codec server) throw to answer with a non-2xx
 * status: the status, a message naming what is wrong and the fix, optionally the fields at fault
 * and headers. Each server renders it in its protocol's shape.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

/** The gateway's error body: `{error: {message, fields?: [{field, message}]}}`. */
export interface ErrorBody {
  error: { message: string; fields?: FieldProblem[] };
}

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly fields?: FieldProblem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { error: { message: this.message, ...(this.fields?.length ? { fields: this.fields } : {}) } };
  }
}
