/**
 * What every contract request goes through before its route: count the call (refused ones too),
 * apply a `down` fault, check the bearer key, find the route. The order matters: a suspended
 * route answers the same whatever key is sent, as the real ones did.
 */
import { ApiError, AuthenticationError, NotFoundError, renderOpenAiError, renderRelayError } from './errors';
import { bearerToken, decodePathSegment, findRoute, jsonResponse, type Route, type SimRequest, type SimResponse } from './http';
import { officialRoutes } from './official-routes';
import { relayRoutes } from './relay-routes';
import { downError, type Contract } from './scenario';
import type { SimulatorState } from './state';

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

/** Serve one request to a contract; `subPath` is the path below its mount point. */
export async function serveContract(gateway: ContractGateway, state: SimulatorState, req: Omit<SimRequest, 'params'>, subPath: string): Promise<SimResponse> {
  const callNumber = state.ledger.countCall(gateway.contract);
  try {
    const down = state.scenario.downFaultFor(gateway.contract, callNumber);
    if (down) throw downError(gateway.contract, down.status);
    if (bearerToken(req.headers) !== gateway.apiKey) throw gateway.unauthorized();
    const found = findRoute(gateway.routes, req.method, subPath);
    if (!found) throw new NotFoundError('route_not_found', `Invalid URL (${req.method} ${req.url.pathname})`);
    const params = Object.fromEntries(Object.entries(found.params).map(([k, v]) => [k, decodePathSegment(v)]));
    return await found.route.handle({ ...req, params });
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error, gateway.render);
    throw error;
  }
}
