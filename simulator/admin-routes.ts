/**
 * `/admin/*`: the simulator's own control surface for drills and tests (ledger, scenario, reset).
 * Not part of any upstream contract, so no key; loopback callers only.
 */
import { InvalidRequestError, ScenarioError } from './errors';
import { jsonResponse, type Route, type SimRequest } from './http';
import type { SimulatorState } from './state';

function parseJsonBody(req: SimRequest): unknown {
  try {
    return JSON.parse(req.body.toString('utf8') || '{}');
  } catch {
    throw new InvalidRequestError('Body must be JSON.', null, 'invalid_json');
  }
}

export function adminRoutes(state: SimulatorState): Route[] {
  return [
    { name: 'ledger', method: 'GET', pattern: /^\/ledger$/, handle: () => jsonResponse(200, state.ledger.snapshot()) },
    {
      name: 'scenario',
      method: 'GET',
      pattern: /^\/scenario$/,
      handle: () => jsonResponse(200, state.scenario.current()),
    },
    {
      name: 'setScenario',
      method: 'POST',
      pattern: /^\/scenario$/,
      handle: (req) => {
        try {
          return jsonResponse(200, state.scenario.replace(parseJsonBody(req), state.now()));
        } catch (error) {
          if (error instanceof ScenarioError) throw new InvalidRequestError(error.message, null, 'invalid_scenario');
          throw error;
        }
      },
    },
    {
      name: 'reset',
      method: 'POST',
      pattern: /^\/reset$/,
      handle: () => {
        state.reset();
        return jsonResponse(200, { reset: true });
      },
    },
  ];
}
