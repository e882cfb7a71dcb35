import { HttpError, type FieldProblem } from '../http-error';
import { CharacterRefusal } from '../../workflows/messages';
import { CharacterDefinitionError, CharacterNotFoundError, CharacterRefusedError } from '../series/characters';
import { BudgetBelowEstimateError } from '../spec/estimate';
import { UnknownProviderError } from '../../workflows/provider-rules';
import { UnroutableScenesError } from '../spec/validate';
import { MessageRefusedError, ScenesRefusedError } from '../series/steering';
import { SeriesAlreadyRunningError, SeriesNotFoundError } from '../series/series-client';
import { SpecError } from '../spec/parse-spec';
import { SceneNotFoundError, SeriesWithoutResultError } from '../series/takes';

/**
 * What the gateway answers when it cannot do what was asked: an HttpError (client/http-error.ts)
 * per status, and the HTTP answer for each error of the library the gateway calls.
 */

export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  constructor(message: string, fields?: FieldProblem[]) {
    super(400, message, fields);
  }
}

export class UnauthorizedError extends HttpError {
  override name = 'UnauthorizedError';
  constructor(message: string) {
    super(401, message);
  }
}

export class ForbiddenError extends HttpError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super(403, message);
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(404, message);
  }
}

export class MethodNotAllowedError extends HttpError {
  override name = 'MethodNotAllowedError';
  constructor(path: string, allowed: string[]) {
    super(405, `${path} takes ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') });
  }
}

export class ConflictError extends HttpError {
  override name = 'ConflictError';
  constructor(message: string) {
    super(409, message);
  }
}

export class PayloadTooLargeError extends HttpError {
  override name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(413, `the body is larger than ${limitBytes} bytes; send less (split the scenes into several requests)`);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  override name = 'UnsupportedMediaTypeError';
  constructor(got: string | undefined) {
    super(415, `send JSON with content-type: application/json${got ? ` (got ${got})` : ''}`);
  }
}

export class RangeNotSatisfiableError extends HttpError {
  override name = 'RangeNotSatisfiableError';
  constructor(range: string, size: number) {
    super(
      416,
      `Range ${range} starts past the end of the ${size}-byte file; ask for bytes=0-${size - 1} or less`,
      undefined,
      {
        'content-range': `bytes */${size}`,
      },
    );
  }
}

export class UnprocessableError extends HttpError {
  override name = 'UnprocessableError';
  constructor(message: string) {
    super(422, message);
  }
}

export class ServiceUnavailableError extends HttpError {
  override name = 'ServiceUnavailableError';
  constructor(message: string) {
    super(503, message, undefined, { 'retry-after': '5' });
  }
}

/** `scenes[0].prompt: must not be empty` -> {field: 'scenes[0].prompt', message: 'must not be empty'}, under `prefix`. */
export function fieldsOf(lines: string[], prefix = ''): FieldProblem[] {
  return lines.map((line) => {
    const match = /^([A-Za-z_][\w.[\]-]*|\(spec\)): ([\s\S]*)$/.exec(line);
    if (!match) return { field: prefix || '(body)', message: line };
    const field = match[1] === '(spec)' ? prefix : [prefix, match[1]].filter(Boolean).join('.');
    return { field: field || '(body)', message: match[2] };
  });
}

/** The HTTP answer for an error of the library the gateway calls; undefined for unexpected ones. */
export function httpErrorOf(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof SpecError) return new BadRequestError(err.message, fieldsOf(err.issues, 'spec'));
  if (err instanceof ScenesRefusedError) return new BadRequestError(err.message, fieldsOf(err.problems));
  if (err instanceof BudgetBelowEstimateError) {
    // The CLI's advice, in the gateway's terms.
    const message = err.message
      .replace('start with --allow-budget-pause', 'send allowBudgetPause: true')
      .replace('`sora-series budget`', 'POST /series/{id}/budget');
    return new BadRequestError(message, fieldsOf([message], 'spec'));
  }
  if (err instanceof UnknownProviderError) return new BadRequestError(err.message, fieldsOf(err.problems, 'spec'));
  if (err instanceof UnroutableScenesError) return new BadRequestError(err.message, fieldsOf([err.message], 'spec'));
  if (err instanceof SeriesNotFoundError)
    return new NotFoundError(
      `${err.message}; check the id (in the path: the series name, or the URL-encoded id), or start it with POST /series`,
    );
  if (err instanceof SeriesAlreadyRunningError)
    return new ConflictError(
      `series ${err.workflowId} already exists; pick another name or id, or read it with GET /series/${encodeURIComponent(err.workflowId)}`,
    );
  if (err instanceof MessageRefusedError) return new UnprocessableError(err.message);
  if (err instanceof SceneNotFoundError)
    return new NotFoundError(err.message.replace(/; check the index with: .*$/, '; GET /series/{id} lists the scenes'));
  if (err instanceof SeriesWithoutResultError) return new ConflictError(err.message);
  return characterHttpErrorOf(err);
}

/** The library's errors in HTTP terms; undefined for others. */
export function characterHttpErrorOf(err: unknown): HttpError | undefined {
  if (err instanceof CharacterDefinitionError)
    return new BadRequestError(err.message, fieldsOf(err.issues, 'character'));
  if (err instanceof CharacterNotFoundError)
    return new NotFoundError(
      err.message.replace(/\(sora-series.*$/, '(GET /characters lists them; POST /characters adds one)'),
    );
  if (err instanceof CharacterRefusedError) {
    if (err.refusal === CharacterRefusal.unknownProvider) return new BadRequestError(err.message);
    if (err.refusal === CharacterRefusal.definitionDiffers || err.refusal === CharacterRefusal.inUse)
      return new ConflictError(err.message);
    return new UnprocessableError(err.message);
  }
  return undefined;
}
