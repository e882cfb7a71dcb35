/**
 * Temporal's codec server protocol, so the Web UI and `temporal --codec-endpoint` can show
 * encrypted payloads in clear: POST .../encode and .../decode take and return
 * `{"payloads":[{"metadata":{k: base64}, "data": base64}]}` (Payloads as proto JSON). Only the
 * last path segment counts (the UI may mount it under /{namespace}/). CORS is answered for the
 * listed UI origins only; with a token set, requests need `Authorization: Bearer <token>`.
 * It is a decryption oracle for whoever can reach it: bind it to loopback or a private network.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { HttpError } from '../http-error';

export interface CodecServerOptions {
  codec: PayloadCodec;
  port: number;
  host: string;
  /** Origins allowed to call from a browser, e.g. the Web UI's `http://localhost:8080`. */
  corsOrigins: readonly string[];
  /** When set, every encode/decode needs `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** One line per refused or failed request (never payload content). */
  log?: (message: string) => void;
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

const payloadsSchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string()).nullish(),
      data: z.string().nullish(),
    }),
  ),
});

type JsonPayload = z.infer<typeof payloadsSchema>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether `header` is `Bearer <token>` (compared in constant time); always true without a token. */
export function authorized(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const origins = new Set(options.corsOrigins);
  const log = options.log ?? (() => undefined);

  const cors = (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (!origin || !origins.has(origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    return true;
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const allowedOrigin = cors(req, res);
    if (req.method === 'OPTIONS') {
      if (!allowedOrigin)
        return send(res, 403, {
          error: `origin ${req.headers.origin ?? '(none)'} is not in SORA_SERIES_CODEC_CORS_ORIGINS`,
        });
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    if (path === '/healthz')
      return req.method === 'GET' ? send(res, 200, { ok: true }) : send(res, 405, { error: 'GET only' });
    const action = /\/(encode|decode)$/.exec(path)?.[1] as 'encode' | 'decode' | undefined;
    if (!action) return send(res, 404, { error: 'POST /encode or /decode' });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
    if (!authorized(req.headers.authorization, options.authToken)) {
      log(`refused ${action}: missing or wrong Authorization header`);
      return send(res, 401, { error: 'missing or wrong Authorization header' });
    }
    let parsed: z.infer<typeof payloadsSchema>;
    try {
      parsed = payloadsSchema.parse(JSON.parse(await readBody(req)));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'body must be JSON {"payloads":[{"metadata":{...base64},"data":base64}]}');
    }
    const payloads = parsed.payloads.map(fromJson);
    let result: Payload[];
    try {
      result = await options.codec[action](payloads);
    } catch (err) {
      // The codec's own messages name key ids, never key material.
      throw new HttpError(400, `${action} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    send(res, 200, { payloads: result.map(toJson) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      log(`${req.method} ${req.url}: ${status} ${message}`);
      if (!res.headersSent) send(res, status, { error: message });
      else res.end();
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections(); // keep-alive connections (the UI's) would hold close() open
          }),
      });
    });
  });
}
