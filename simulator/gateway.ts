/**
 * What every contract request goes through around its route: count the call (refused ones too,
 * per contract and per endpoint), then the scenario's faults in a fixed order (README.md "Order of
 * evaluation"): latency, `down`, reset/hang, 429/5xx, the bearer key, `sentinelBlock`, the route,
 * reset/hang after handling, malformed/off-contract bodies. A suspended route answers the same
 * whatever key is sent, as the real ones did.
 */
import { ApiError, AuthenticationError, NotFoundError, renderOpenAiError, renderRelayError } from './errors';
import type { CallPlan, CallTarget } from './faults';
import {
  bearerToken,
  decodePathSegment,
  findRoute,
  jsonResponse,
  type Route,
  type SimRequest,
  type SimResponse,
} from './http';
import { officialRoutes } from './official-routes';
import { relayRoutes, serveRelayFile } from './relay-routes';
import type { Contract } from './scenario';
import type { SimulatorState } from './state';
import { corrupt, damageMedia } from './transport';

export interface ContractGateway {
  contract: Contract;
  routes: Route[];
  apiKey: string;
  /** The answer to a missing or wrong key, in the contract's own words. */
  unauthorized: () => ApiError;
  render: (error: ApiError) => unknown;
}

export function officialGateway(state: SimulatorState): ContractGateway {
  return {
    contract: 'official',
    routes: officialRoutes(state),
    apiKey: state.config.keys.official,
    unauthorized: () => new AuthenticationError('invalid_api_key', 'Incorrect API key provided.'),
    render: renderOpenAiError,
  };
}

export function relayGateway(state: SimulatorState): ContractGateway {
  return {
    contract: 'relay-v1',
    routes: relayRoutes(state),
    apiKey: state.config.keys.relay,
    unauthorized: () => new AuthenticationError('token_invalidated', 'Could not parse your authentication token'),
    render: renderRelayError,
  };
}

export function errorResponse(error: ApiError, render: (error: ApiError) => unknown): SimResponse {
  return jsonResponse(error.status, render(error), { ...error.headers });
}

/** A response that stands for "closed before answering" (the server never writes it). */
const CLOSED: SimResponse = { status: 0, contentType: 'text/plain', body: '', transport: { kind: 'reset' } };

/**
 * Run `handle` under the call's fault plan. `authorize` runs between the refusals a proxy would
 * give (429/5xx) and `sentinelBlock`; errors are rendered in the contract's shape.
 */
export async function underFaults(
  state: SimulatorState,
  target: CallTarget,
  render: (error: ApiError) => unknown,
  authorize: () => void,
  handle: () => SimResponse | Promise<SimResponse>,
): Promise<SimResponse> {
  const plan: CallPlan = state.faults.planCall(target, state.now());
  if (plan.latencyMs > 0 && !(await state.holds.sleep(plan.latencyMs))) return CLOSED;
  let response: SimResponse;
  try {
    if (plan.down) throw plan.down;
    if (plan.transportBefore) return { ...CLOSED, transport: plan.transportBefore };
    if (plan.refusal) throw plan.refusal;
    authorize();
    if (plan.sentinel) throw plan.sentinel;
    response = await handle();
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error, render);
    throw error;
  }
  if (plan.transportAfter) return { ...CLOSED, transport: plan.transportAfter };
  if (plan.corruption) response = corrupt(response, plan.corruption);
  return plan.media ? damageMedia(response, plan.media) : response;
}

/** Serve one request to a contract; `subPath` is the path below its mount point. */
export async function serveContract(
  gateway: ContractGateway,
  state: SimulatorState,
  req: Omit<SimRequest, 'params'>,
  subPath: string,
): Promise<SimResponse> {
  const found = findRoute(gateway.routes, req.method, subPath);
  const endpoint = found?.route.name ?? 'unknown';
  state.ledger.countCall(gateway.contract, endpoint);
  return underFaults(
    state,
    { contract: gateway.contract, endpoint, inherit: true },
    gateway.render,
    () => {
      if (bearerToken(req.headers) !== gateway.apiKey) throw gateway.unauthorized();
    },
    () => {
      if (!found) throw new NotFoundError('route_not_found', `Invalid URL (${req.method} ${req.url.pathname})`);
      const params = Object.fromEntries(Object.entries(found.params).map(([k, v]) => [k, decodePathSegment(v)]));
      return found.route.handle({ ...req, params });
    },
  );
}

/**
 * `GET /relay/files/{task}.mp4`: no key, not in the contract's call total, and only faults set on
 * the `file` endpoint itself apply (so a contract-wide `down` leaves files downloadable).
 */
export function serveFile(state: SimulatorState, rawTaskId: string): Promise<SimResponse> {
  state.ledger.countCall('relay-v1', 'file', false);
  return underFaults(
    state,
    { contract: 'relay-v1', endpoint: 'file', inherit: false },
    renderRelayError,
    () => undefined,
    () => serveRelayFile(state, decodePathSegment(rawTaskId)),
  );
}
