import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ProviderProfile } from '../../workflows/types';
import { clientProviderProfiles } from '../spec/provider-profiles';
import { formatPath } from '../../common/field-path';
import { HttpError } from '../http-error';
import {
  BadRequestError,
  httpErrorOf,
  MethodNotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
} from './errors';
import { checkDoor, tokenLogin } from './auth';
import { parseJsonBody, readBody, sendAnswer, sendJson } from './http';
import { openApiDocument } from './openapi';
import { matchPath, type Answer, type GatewayContext, type Route } from './route';
import { gatewayRoutes } from './routes';
import { WebhookReceiver } from './webhook-receiver';
import type { WebhookVerifier } from './webhook-verifiers';

/**
 * `sora-series gateway`: the HTTP door for other services (node:http, no framework). The route
 * table is routes.ts (what a route is: route.ts); this file matches, reads and validates bodies,
 * and turns errors into `{error: {message, fields?}}` with the right status.
 */

export interface GatewayOptions {
  client: Client;
  taskQueue: string;
  logger: Logger;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: the steering routes have no authentication of their own. */
  host?: string;
  /** Default: the client's provider config (clientProviderProfiles). */
  profiles?: ProviderProfile[];
  /** A verifier per provider that takes webhooks (webhook-verifiers.ts `webhookVerifiers`); default none. */
  webhooks?: Record<string, WebhookVerifier>;
  /** Pauses between visibility lookups of a webhook's scene. */
  lookupDelaysMs?: number[];
  /**
   * When set, every route but health, the description and webhooks needs `Authorization: Bearer
   * <authToken>`, or the review page's session cookie (auth.ts).
   */
  authToken?: string;
  /** Where the workers store assets (SORA_SERIES_DATA_DIR), for take videos; unset: none are served. */
  dataDir?: string;
  /** The gateway's URL as browsers reach it, for review page links; default: where it listens, unless that is every address. */
  publicUrl?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Version of the HTTP API (the OpenAPI `info.version`), not of the package. */
export const GATEWAY_API_VERSION = '1';
const DEFAULT_BODY_BYTES = 1024 * 1024;

/** Temporal's gRPC UNAVAILABLE, however deep in the cause chain: the caller may retry. */
function isUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e.code === 14) return true;
  }
  return false;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger.child({ component: 'gateway' });
  const profiles = options.profiles ?? clientProviderProfiles().profiles;
  const webhooks = new WebhookReceiver({
    client: options.client,
    logger,
    verifiers: options.webhooks ?? {},
    lookupDelaysMs: options.lookupDelaysMs,
  });
  const ctx: GatewayContext = {
    client: options.client,
    taskQueue: options.taskQueue,
    profiles,
    webhooks,
    dataDir: options.dataDir,
  };
  let baseUrl = '';
  const routes: Route[] = gatewayRoutes(() =>
    openApiDocument(routes, { version: GATEWAY_API_VERSION, serverUrl: baseUrl, bearer: !!options.authToken }),
  );

  async function answer(req: IncomingMessage): Promise<Answer> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const path = url.pathname;
    const matching = routes.map((route) => ({ route, params: matchPath(route.path, path) })).filter((m) => m.params);
    if (!matching.length)
      throw new NotFoundError(`no route ${req.method} ${path}; the routes are described at GET /openapi.json`);
    const found = matching.find((m) => m.route.method === req.method);
    if (!found) throw new MethodNotAllowedError(path, [...new Set(matching.map((m) => m.route.method))]);
    const { route, params } = found;
    const login = route.page ? tokenLogin(req, url, options.authToken) : undefined;
    if (login) return login;
    checkDoor(req, route, options.authToken);
    const raw =
      route.method === 'GET' ? Buffer.alloc(0) : await readBody(req, route.maxBodyBytes ?? DEFAULT_BODY_BYTES);
    let body: unknown;
    if (route.raw) {
      if (raw.length && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
        throw new UnsupportedMediaTypeError(req.headers['content-type']);
      if (!raw.length) throw new BadRequestError('send the webhook event as the JSON body');
    } else if (route.body) {
      const value = parseJsonBody(req, raw) ?? (route.bodyRequired ? undefined : {});
      if (value === undefined)
        throw new BadRequestError(`send a JSON body; ${route.operationId} is described at GET /openapi.json`);
      const checked = (route.check ?? route.body).safeParse(value);
      if (!checked.success) {
        const fields = checked.error.issues.map((issue) => ({
          field: formatPath(issue.path) || '(body)',
          message: issue.message,
        }));
        throw new BadRequestError(
          `invalid request body:\n  - ${fields.map((f) => `${f.field}: ${f.message}`).join('\n  - ')}`,
          fields,
        );
      }
      body = checked.data;
    }
    return route.handle(ctx, { params: params!, body, headers: req.headers, raw });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    let status: number;
    try {
      const result = await answer(req);
      status = result.status;
      sendAnswer(res, result);
    } catch (err) {
      let http = httpErrorOf(err);
      if (!http && isUnavailable(err))
        http = new ServiceUnavailableError('Temporal does not answer; try again shortly');
      if (!http) {
        // The path only: a query may carry the review page's token.
        logger.error(
          { err, method: req.method, path: new URL(req.url ?? '/', 'http://gateway').pathname },
          'gateway request failed',
        );
        http = new HttpError(500, 'the gateway failed unexpectedly; the gateway log has the details');
      }
      status = http.status;
      // A body refused part-way is not read to its end: close the connection after answering.
      const headers: Record<string, string> = status === 413 ? { ...http.headers, connection: 'close' } : http.headers;
      if (status === 413) req.resume();
      sendJson(res, status, http.body(), headers);
    }
    logger.info(
      {
        method: req.method,
        path: new URL(req.url ?? '/', 'http://gateway').pathname,
        status,
        ms: Date.now() - started,
      },
      'gateway request',
    );
  }

  const server = createServer((req, res) => void handle(req, res));
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;
  const everyAddress = address.address === '0.0.0.0' || address.address === '::';
  ctx.publicUrl = options.publicUrl ?? (everyAddress ? undefined : baseUrl);
  logger.info(
    { url: baseUrl, webhooks: webhooks.providers(), auth: options.authToken ? 'token required' : 'none' },
    'gateway listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
