/**
 * The bundled upstream simulator: both upstream contracts on one loopback HTTP server, with a
 * billing ledger and switchable faults. Used for dry runs, demos and fault drills, not only tests.
 *
 *   /v1/...            official contract (OpenAI Videos API)
 *   /relay/...         relay-v1 contract; /relay/files/{task}.mp4 is its (unauthenticated) CDN
 *   /seedance/api/v3/... seedance contract (Ark); /seedance/tos/{task}.mp4 its signed 24 h video URLs
 *   /kling/...         Kling contract (kling-routes.ts); /kling/cdn/{task}.mp4 its signed result URLs
 *   /clips/{name}.mp4  source clips for characters (no auth)
 *   /fal/...           fal's queue, platform list, storage, CDN and webhook keys (fal-routes.ts)
 *   /admin/...         ledger, scenario, reset, webhooks (loopback only)
 *
 * With `webhook` set it also POSTs signed official-contract webhooks when /v1 jobs end (webhooks.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mediaToolPath } from '../common/media-tools';
import { ScenarioError, SimulatorOptionsError } from './errors';
import type { CallsByEndpoint, LedgerEntry } from './ledger';
import type { MediaStats } from './media';
import type { Contract, Scenario } from './scenario';
import { SimulatorState } from './state';
import { KlingCallbacks, type KlingCallbackDelivery, type KlingCallbackOptions } from './kling-callbacks';
import { FalTwin } from './fal-routes';
import { FalWebhooks, type FalWebhookDelivery, type FalWebhookOptions } from './fal-webhooks';
import type { SeedanceCallbackDelivery, SeedanceCallbackOptions } from './seedance-callbacks';
import { SEEDANCE_API_PREFIX, seedanceCallbackSender } from './seedance-gateway';
import { WebhookSender, webhookOptionsProblem, type WebhookDelivery, type WebhookOptions } from './webhooks';

import { createRequestHandler } from './request-handler';
export type { CallsByEndpoint, LedgerEntry, LedgerSnapshot } from './ledger';
export type { Contract, EndpointName, FaultSet, Scenario } from './scenario';
export { CONTRACTS, ENDPOINTS } from './scenario';
export { DEMO_TASK_ID } from './state';
export { HUMAN_LIKENESS_MARKER, type MediaStats } from './media';
export type { KlingCallbackDelivery, KlingCallbackOptions } from './kling-callbacks';
export { signWebhook, WebhookConfigError, type WebhookDelivery, type WebhookOptions } from './webhooks';
export type { FalWebhookDelivery, FalWebhookOptions } from './fal-webhooks';

/** The fal key the twin accepts unless told another (fal keys are `key_id:key_secret`). */
export const SIM_FAL_KEY = 'sim-fal-key-id:sim-fal-key-secret';

/** The key the Kling twin accepts unless `keys.kling` says otherwise. */
export const DEFAULT_KLING_KEY = 'sk-sim-kling';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the simulator has no TLS and an unauthenticated admin surface. */
  host?: string;
  /** Seeds ids and duration jitter (default 1). */
  seed?: number;
  /** Simulated generation time per job (default 2). */
  jobSeconds?: number;
  /** Duration spread as a fraction: jobSeconds × (1 ± jitter·u) (default 0.2). */
  jitter?: number;
  /** `fal` defaults to SIM_FAL_KEY, `seedance` to `ark-sim-seedance`, `kling` to DEFAULT_KLING_KEY. */
  keys: { official: string; relay: string; fal?: string; seedance?: string; kling?: string };
  scenario?: Scenario;
  /** How long finished videos stay downloadable (default 3600, the documented hour). */
  contentTtlSeconds?: number;
  /** Clock in epoch ms (default Date.now); a test can step through jobs without sleeping. */
  now?: () => number;
  /** Send official-contract webhooks (`video.completed` / `video.failed`) here, signed with `secret`. */
  webhook?: WebhookOptions;
  /** fal webhooks go where each submit's `fal_webhook` says; these tune their retries. */
  falWebhooks?: FalWebhookOptions;
  /** How the seedance twin delivers its (unsigned) task callbacks to each task's `callback_url`. */
  seedanceCallbacks?: SeedanceCallbackOptions;
  /** Kling callbacks (sent to each task's own `callback_url`): signed with `secret` when given. */
  kling?: KlingCallbackOptions;
}

/** Where the fal twin serves each of fal's hosts. */
export interface FalTwinUrls {
  queueUrl: string;
  storageUrl: string;
  platformUrl: string;
  jwksUrl: string;
}

export interface RunningSimulator {
  /** e.g. http://127.0.0.1:7070 */
  url: string;
  officialBaseUrl: string;
  relayBaseUrl: string;
  fal: FalTwinUrls & {
    /** Every fal webhook sent so far (the last 1000). */
    webhookDeliveries(): FalWebhookDelivery[];
  };
  /** Ark's `/api/v3` on the twin: a seedance provider's baseUrl. */
  seedanceBaseUrl: string;
  /** Every seedance task callback sent so far (the last 1000). */
  seedanceCallbacks(): SeedanceCallbackDelivery[];
  klingBaseUrl: string;
  ledger(): LedgerEntry[];
  /**
   * Calls so far (refused ones included): per contract (relay files excluded) and per endpoint
   * name (relay files as `relay-v1.file`; unmatched paths as `unknown`).
   */
  calls(): { byContract: Record<Contract, number>; byEndpoint: CallsByEndpoint };
  /** Replace the scenario (validated; throws ScenarioError). */
  setScenario(scenario: Scenario): void;
  scenario(): Scenario;
  /** Point webhooks elsewhere (validated; throws WebhookConfigError), or off with undefined; for jobs ending from now on. */
  setWebhook(options: WebhookOptions | undefined): void;
  /** Every webhook sent so far (the last 1000), with attempts and outcome. */
  webhookDeliveries(): WebhookDelivery[];
  /** Media renders so far (count, wall time) and downloads answered from the render cache. */
  mediaStats(): MediaStats;
  /** Forget jobs, characters, ledger and calls (keeps the seeded demo task and the scenario). */
  reset(): void;
  /** Stop listening and drop every connection (hanging ones included); repeated calls share one close. */
  close(): Promise<void>;
  /** Every Kling callback sent so far (the last 1000). */
  klingCallbacks(): KlingCallbackDelivery[];
  /** Sign Kling callbacks from now on with this secret, or send them unsigned. */
  setKlingCallbacks(options: KlingCallbackOptions): void;
}

function validateOptions(options: SimulatorOptions): void {
  const problems: string[] = [];
  if (!options.keys?.official || !options.keys?.relay) problems.push('keys.official and keys.relay are required');
  if (options.seed !== undefined && !Number.isInteger(options.seed)) problems.push('seed must be an integer');
  if (options.jobSeconds !== undefined && !(options.jobSeconds >= 0)) problems.push('jobSeconds must be >= 0');
  if (options.jitter !== undefined && !(options.jitter >= 0 && options.jitter < 1))
    problems.push('jitter must be in [0, 1)');
  if (options.contentTtlSeconds !== undefined && !(options.contentTtlSeconds > 0))
    problems.push('contentTtlSeconds must be > 0');
  const webhookProblem = options.webhook && webhookOptionsProblem(options.webhook);
  if (webhookProblem) problems.push(webhookProblem);
  if (problems.length > 0) throw new SimulatorOptionsError(`invalid simulator options: ${problems.join('; ')}`);
}
function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  validateOptions(options);
  mediaToolPath('ffmpeg'); // no ffmpeg, no media: say so at start (MediaToolNotFoundError names the fix)
  const state = new SimulatorState({
    seed: options.seed ?? 1,
    jobSeconds: options.jobSeconds ?? 2,
    jitter: options.jitter ?? 0.2,
    keys: { ...options.keys, fal: options.keys.fal ?? SIM_FAL_KEY, kling: options.keys.kling ?? DEFAULT_KLING_KEY },
    contentTtlSeconds: options.contentTtlSeconds ?? 3600,
    now: options.now ?? Date.now,
  });
  if (options.scenario) state.scenario.replace(options.scenario, state.now());

  const webhooks = new WebhookSender(state, options.webhook);
  state.onJobAccepted = (job) => webhooks.jobAccepted(job);
  const falWebhooks = new FalWebhooks(options.falWebhooks, options.seed ?? 1);
  const fal = new FalTwin(state, falWebhooks);
  const callbacks = seedanceCallbackSender(state, options.seedanceCallbacks);
  const klingCallbacks = new KlingCallbacks(state, options.kling);
  const handler = createRequestHandler(state, webhooks, fal, callbacks, klingCallbacks);
  const server = createServer((req, res) => void handler(req, res));
  const address = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  state.baseUrl = url;
  let closing: Promise<void> | undefined;

  return {
    url,
    officialBaseUrl: `${url}/v1`,
    relayBaseUrl: `${url}/relay`,
    fal: {
      queueUrl: `${url}/fal/queue`,
      storageUrl: `${url}/fal/rest`,
      platformUrl: `${url}/fal/api/v1`,
      jwksUrl: `${url}/fal/.well-known/jwks.json`,
      webhookDeliveries: () => falWebhooks.deliveries(),
    },
    seedanceBaseUrl: `${url}${SEEDANCE_API_PREFIX}`,
    seedanceCallbacks: () => callbacks.deliveries(),
    klingBaseUrl: `${url}/kling`,
    ledger: () => state.ledger.entries(),
    calls: () => ({ byContract: state.ledger.calls(), byEndpoint: state.ledger.callsByEndpoint() }),
    setScenario: (scenario) => {
      state.scenario.replace(scenario, state.now());
    },
    scenario: () => state.scenario.current(),
    setWebhook: (webhook) => webhooks.configure(webhook),
    webhookDeliveries: () => webhooks.deliveries(),
    mediaStats: () => state.media.stats(),
    reset: () => state.reset(),
    klingCallbacks: () => klingCallbacks.deliveries(),
    setKlingCallbacks: (kling) => klingCallbacks.configure(kling),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Latency timers and hanging sockets first, then keep-alive sockets, which would hold
        // close() (and so jest) open until they time out.
        state.holds.closeAll();
        webhooks.close();
        falWebhooks.close();
        callbacks.close();
        klingCallbacks.close();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export { ScenarioError, SimulatorOptionsError };
