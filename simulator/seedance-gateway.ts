/**
 * The seedance twin on the simulator's server: its contract gateway (Ark key, Ark error shape),
 * its signed video URLs (no key, only faults set on the `video` endpoint apply) and its callbacks.
 */
import { ApiError } from './errors';
import { underFaults, type ContractGateway } from './gateway';
import type { SimResponse } from './http';
import { SeedanceCallbackSender, type SeedanceCallbackOptions } from './seedance-callbacks';
import { renderArkError, seedanceRoutes, serveSeedanceVideo } from './seedance-routes';
import type { SimulatorState } from './state';

/** The key the twin takes unless `keys.seedance` names another. */
export const DEFAULT_SEEDANCE_KEY = 'ark-sim-seedance';
/** Where the twin is mounted: Ark's `/api/v3` below `/seedance` (BytePlus and Volcengine share the path). */
export const SEEDANCE_API_PREFIX = '/seedance/api/v3';
export const SEEDANCE_TOS_PREFIX = '/seedance/tos/';

export function seedanceGateway(state: SimulatorState, callbacks: SeedanceCallbackSender): ContractGateway {
  return {
    contract: 'seedance',
    routes: seedanceRoutes(state, (job, task) => callbacks.taskCreated(job, task)),
    apiKey: state.config.keys.seedance ?? DEFAULT_SEEDANCE_KEY,
    unauthorized: () =>
      new ApiError(401, 'AuthenticationError', 'The API key or AK/SK in the request is missing or invalid.'),
    render: renderArkError,
  };
}

export function seedanceCallbackSender(
  state: SimulatorState,
  options?: SeedanceCallbackOptions,
): SeedanceCallbackSender {
  return new SeedanceCallbackSender(state, options);
}

/** `GET /seedance/tos/{task}.mp4?X-Tos-...`: counted as `seedance.video`, outside the contract's call total. */
export function serveSeedanceFile(state: SimulatorState, name: string, query: URLSearchParams): Promise<SimResponse> {
  state.ledger.countCall('seedance', 'video', false);
  return underFaults(
    state,
    { contract: 'seedance', endpoint: 'video', inherit: false },
    renderArkError,
    () => undefined,
    () => serveSeedanceVideo(state, name, query),
  );
}
