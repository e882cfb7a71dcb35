import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Answer } from './route';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

/** node:http plumbing for the gateway: bounded bodies, JSON in and out, other bytes out as they are. */

/** The whole body, refused with 413 once it passes `limitBytes` (announced or actual). */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > limitBytes) throw new PayloadTooLargeError(limitBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limitBytes) throw new PayloadTooLargeError(limitBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const isJson = (contentType: string | undefined) =>
  !!contentType && /^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i.test(contentType);

/** A JSON body as a value; an empty body is `undefined` (routes without required fields take it). */
export function parseJsonBody(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  if (!isJson(req.headers['content-type'])) throw new UnsupportedMediaTypeError(req.headers['content-type']);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BadRequestError(`the body is not valid JSON: ${(err as Error).message}; send one JSON object`);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(body.length),
  });
  res.end(body);
}

/** An answer as it is: JSON, its bytes (a stream is piped; one that fails cuts the connection), or headers only. */
export function sendAnswer(res: ServerResponse, answer: Answer): void {
  const { status, headers = {}, content } = answer;
  if (!content) {
    if (answer.body !== undefined) return sendJson(res, status, answer.body, headers);
    res.writeHead(status, { ...headers, 'content-length': '0' });
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, 'content-type': content.type, 'content-length': String(content.length) });
  if (Buffer.isBuffer(content.data)) {
    res.end(content.data);
    return;
  }
  const stream = content.data;
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}
