/**
 * Small node:http plumbing: read a whole body, answer JSON or bytes, match routes. Handlers return
 * a `SimResponse` instead of writing to the socket, so each contract can render errors its own way.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BodyTooLargeError, InvalidRequestError, NotFoundError } from './errors';
import type { TransportFault } from './faults';
import { expandBracketFields, parseMultipart, type FormObject } from './multipart';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Named groups of the matched route pattern. */
  params: Record<string, string>;
}

export interface SimResponse {
  status: number;
  contentType: string;
  body: Buffer | string;
  headers?: Record<string, string>;
  /** Set by a reset / hang fault: do that to the socket instead of answering. */
  transport?: TransportFault;
}

export function jsonResponse(status: number, value: unknown, headers?: Record<string, string>): SimResponse {
  return { status, contentType: 'application/json', body: JSON.stringify(value), headers };
}

export function bytesResponse(body: Buffer, contentType: string): SimResponse {
  return { status: 200, contentType, body };
}

export async function readBody(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limitBytes) throw new BodyTooLargeError(limitBytes);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export type RouteHandler = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export interface Route {
  /** Endpoint name, as used in scenarios (`endpoints.<name>`) and `callsByEndpoint`. */
  name: string;
  method: string;
  /** Anchored pattern over the path below the contract's mount point; named groups become params. */
  pattern: RegExp;
  handle: RouteHandler;
}

export function findRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, params: { ...(match.groups ?? {}) } };
  }
  return undefined;
}

/** decodeURIComponent that answers 404 instead of throwing on a malformed escape. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new NotFoundError('route_not_found', `Malformed path segment: ${segment}`);
  }
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  const match = value ? /^Bearer\s+(.+)$/i.exec(value.trim()) : null;
  return match ? match[1] : undefined;
}

export function idempotencyKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['idempotency-key'];
  const key = Array.isArray(value) ? value[0] : value;
  return key && key.length > 0 ? key : undefined;
}

export interface DecodedBody {
  encoding: 'json' | 'multipart' | 'empty';
  fields: FormObject;
}

/** Decode a JSON or multipart/form-data body into one field tree (multipart brackets expanded). */
export function decodeBody(req: SimRequest): DecodedBody {
  const contentType = req.headers['content-type'] ?? '';
  if (req.body.length === 0) return { encoding: 'empty', fields: Object.create(null) as FormObject };
  if (/^multipart\/form-data/i.test(contentType)) {
    return { encoding: 'multipart', fields: expandBracketFields(parseMultipart(req.body, contentType)) };
  }
  if (/^application\/json/i.test(contentType) || contentType === '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw new InvalidRequestError('We could not parse the JSON body of your request.', null, 'invalid_json');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InvalidRequestError('The request body must be a JSON object.', null, 'invalid_json');
    }
    return { encoding: 'json', fields: parsed as FormObject };
  }
  throw new InvalidRequestError(`Unsupported content type: ${contentType}`, null, 'unsupported_content_type');
}
