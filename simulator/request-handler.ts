/**
 * How the simulator answers one HTTP request: transport faults first, then the admin routes, each
 * twin's mount, the clips, and errors rendered in the contract's own shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, NotFoundError, renderOpenAiError, renderRelayError } from './errors';
import { errorResponse, officialGateway, relayGateway, serveContract, serveFile } from './gateway';
import { bytesResponse, decodePathSegment, findRoute, readBody, type SimRequest, type SimResponse } from './http';
import { SimulatorState } from './state';
import { KlingCallbacks } from './kling-callbacks';
import { serveKlingFile } from './kling-files';
import { renderKlingError } from './kling-errors';
import { klingGateway } from './kling-routes';
import { applyTransportFault } from './transport';
import { falGateway, FalTwin, serveFal } from './fal-routes';
import { renderFalError } from './fal-errors';
import {
  SEEDANCE_API_PREFIX,
  SEEDANCE_TOS_PREFIX,
  seedanceCallbackSender,
  seedanceGateway,
  serveSeedanceFile,
} from './seedance-gateway';
import { renderArkError } from './seedance-routes';
import { webhookAdminRoutes, type WebhookSender } from './webhooks';
import { adminRoutes } from './admin-routes';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function send(res: ServerResponse, response: SimResponse): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
  res.writeHead(response.status, {
    ...response.headers,
    'content-type': response.contentType,
    'content-length': String(body.length),
  });
  res.end(body);
}

export function createRequestHandler(
  state: SimulatorState,
  webhooks: WebhookSender,
  fal: FalTwin,
  callbacks: ReturnType<typeof seedanceCallbackSender>,
  klingCallbacks: KlingCallbacks,
) {
  const official = officialGateway(state);
  const falRoutes = falGateway(fal);
  const relay = relayGateway(state);
  const seedance = seedanceGateway(state, callbacks);
  const kling = klingGateway(state, klingCallbacks);
  const admin = [...adminRoutes(state), ...webhookAdminRoutes(webhooks)];

  async function route(req: Omit<SimRequest, 'params'>, remoteAddress: string | undefined): Promise<SimResponse> {
    const path = req.url.pathname;
    if (path === '/v1' || path.startsWith('/v1/')) return serveContract(official, state, req, path.slice('/v1'.length));
    if (path.startsWith('/fal/')) return serveFal(fal, falRoutes, req, path.slice('/fal'.length));
    const file = /^\/relay\/files\/([^/]+)\.mp4$/.exec(path);
    if (file && req.method === 'GET') return serveFile(state, file[1]);
    if (path === '/relay' || path.startsWith('/relay/'))
      return serveContract(relay, state, req, path.slice('/relay'.length));
    if (path.startsWith(SEEDANCE_TOS_PREFIX) && req.method === 'GET')
      return serveSeedanceFile(state, decodePathSegment(path.slice(SEEDANCE_TOS_PREFIX.length)), req.url.searchParams);
    if (path === SEEDANCE_API_PREFIX || path.startsWith(`${SEEDANCE_API_PREFIX}/`))
      return serveContract(seedance, state, req, path.slice(SEEDANCE_API_PREFIX.length));
    const klingFile = /^\/kling\/cdn\/([^/]+)\.mp4$/.exec(path);
    if (klingFile && req.method === 'GET') return serveKlingFile(state, decodePathSegment(klingFile[1]), req.url);
    if (path === '/kling' || path.startsWith('/kling/'))
      return serveContract(kling, state, req, path.slice('/kling'.length));
    const clip = /^\/clips\/([^/]+)\.mp4$/.exec(path);
    if (clip && req.method === 'GET')
      return bytesResponse(await state.media.clip(decodePathSegment(clip[1])), 'video/mp4');
    if (path.startsWith('/admin/')) {
      if (!LOOPBACK.has(remoteAddress ?? ''))
        throw new ApiError(403, 'loopback_only', 'The admin API answers loopback callers only.');
      const found = findRoute(admin, req.method, path.slice('/admin'.length));
      if (found) return found.route.handle({ ...req, params: found.params });
    }
    throw new NotFoundError('route_not_found', `Invalid URL (${req.method} ${path})`);
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', state.baseUrl || 'http://localhost');
    // Errors outside a contract (body too large on /v1 included) still take that contract's shape.
    const render = url.pathname.startsWith('/v1')
      ? renderOpenAiError
      : url.pathname.startsWith('/fal/')
        ? renderFalError
        : url.pathname.startsWith('/seedance')
          ? renderArkError
          : url.pathname.startsWith('/kling')
            ? renderKlingError
            : renderRelayError;
    let response: SimResponse;
    try {
      const body = await readBody(req);
      response = await route(
        { method: req.method ?? 'GET', url, headers: req.headers, body },
        req.socket.remoteAddress,
      );
    } catch (error) {
      if (error instanceof ApiError) {
        response = errorResponse(error, render);
      } else {
        process.stderr.write(
          `simulator: unexpected error on ${req.method} ${url.pathname}: ${String((error as Error)?.stack ?? error)}\n`,
        );
        response = errorResponse(new ApiError(500, 'internal_error', 'The simulator failed unexpectedly.'), render);
      }
    }
    if (response.transport) applyTransportFault(req.socket, response.transport, state.holds);
    else if (!res.headersSent && !state.holds.isClosed) send(res, response);
  };
}
