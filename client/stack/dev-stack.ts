import { Client } from '@temporalio/client';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { defaultProviderConfig, loadProviderConfig } from '../../activities/providers/config';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';
import { SIM_FAL_KEY, startSimulator, type RunningSimulator } from '../../simulator/server';
import { startDevGateway } from '../gateway/dev-gateway';
import type { RunningGateway } from '../gateway/server';
import { activityDepsFromEnv } from '../../workers/activity-deps';
import { ensureProviderSlots } from '../../workers/provider-slots';
import { createSeriesWorker, maxCachedWorkflowsFromEnv } from '../../workers/series-worker';
import { prebuiltWorkflowBundle } from '../../workers/workflow-bundle';
import { DEFAULT_TASK_QUEUE } from '../../common/temporal/settings';
import { ALLOW_PRIVATE_URLS_ENV } from '../../common/url-policy';
import { freePort } from '../../common/process';
import { startDevServer, type DevServer } from './dev-server';
import { twinCallbacks } from './twin-callbacks';

export interface DevStackOptions {
  dataDir: string;
  temporalPort?: number;
  uiPort?: number;
  /** 0 picks a free port. */
  simulatorPort?: number;
  /** Run a worker in this process (the `dev` default); `--no-worker` leaves it to `sora-series worker`. */
  worker?: boolean;
  ui?: boolean;
  /** Simulated generation time per job. */
  jobSeconds?: number;
  seed?: number;
  taskQueue?: string;
  logger: Logger;
  /** Serve the HTTP gateway here (0: a free port), with the simulator sending it signed webhooks; unset: no gateway. */
  gatewayPort?: number;
}

export interface DevStack {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  uiUrl?: string;
  simulator: RunningSimulator;
  gateway?: RunningGateway;
  dataDir: string;
  /** The worker's providers in config order, and where the config came from. */
  providers: { names: string[]; source: string };
  stop(): Promise<void>;
}

/** Keys the simulator accepts; in the dev stack they stand in for real provider keys. */
export const SIMULATOR_KEYS = {
  SORA_OFFICIAL_KEY: 'sk-sim-official',
  SORA_RELAY_KEY: 'sk-sim-relay',
  SORA_FAL_KEY: SIM_FAL_KEY,
  SORA_SEEDANCE_KEY: 'ark-sim-seedance',
  SORA_KLING_KEY: 'sk-sim-kling',
} as const;

/**
 * The embedded default: dev server (SQLite under dataDir, Web UI, search attributes), the
 * simulator on loopback, and a worker. Stops in reverse order.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse())
      await step().catch((err: Error) => options.logger.warn({ err: err.message }, 'stop step failed'));
  };
  try {
    const server: DevServer = await startDevServer({
      port: options.temporalPort,
      uiPort: options.uiPort,
      ui: options.ui ?? true,
      dbFile: join(dataDir, 'temporal.sqlite'),
      logFile: join(dataDir, 'temporal.log'),
    });
    stops.push(() => server.stop());

    const env: NodeJS.ProcessEnv & typeof SIMULATOR_KEYS = {
      ...SIMULATOR_KEYS,
      ...process.env,
      SORA_SERIES_DATA_DIR: dataDir,
    };
    const simulator = await startSimulator({
      port: options.simulatorPort ?? 0,
      seed: options.seed ?? 1,
      jobSeconds: options.jobSeconds ?? 3,
      keys: {
        official: env.SORA_OFFICIAL_KEY,
        relay: env.SORA_RELAY_KEY,
        fal: env.SORA_FAL_KEY,
        seedance: env.SORA_SEEDANCE_KEY,
        kling: env.SORA_KLING_KEY,
      },
    });
    stops.push(() => simulator.close());
    // Source clips in the dev stack live on the loopback simulator, which the SSRF guard refuses
    // by default: allow exactly its host (unless the variable is set), for the worker below and
    // for specs validated in this process (the demo).
    const simulatorHost = new URL(simulator.url).host;
    env[ALLOW_PRIVATE_URLS_ENV] ??= simulatorHost;
    process.env[ALLOW_PRIVATE_URLS_ENV] ??= simulatorHost;

    const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    // The gateway's port is fixed before the worker's config: each twin is told per request where to call back.
    const gatewayPort = options.gatewayPort === undefined ? undefined : options.gatewayPort || (await freePort());
    const config = env[PROVIDERS_FILE_ENV]
      ? loadProviderConfig(env)
      : defaultProviderConfig(
          simulator.url,
          {},
          gatewayPort === undefined ? undefined : twinCallbacks(simulator, env, `http://127.0.0.1:${gatewayPort}`),
        );
    if (options.worker ?? true) {
      const deps = activityDepsFromEnv(options.logger, env, config);
      const connection = await NativeConnection.connect({ address: server.address });
      const worker: Worker = await createSeriesWorker({
        connection,
        namespace: 'default',
        taskQueue,
        deps,
        workflowBundle: prebuiltWorkflowBundle(),
        maxCachedWorkflows: maxCachedWorkflowsFromEnv(env),
      });
      const running = worker.run();
      await ensureProviderSlots(
        new Client({ connection, namespace: 'default' }),
        taskQueue,
        [...deps.providers.values()].map((p) => p.profile),
        options.logger,
      );
      stops.push(async () => {
        worker.shutdown();
        await running;
        await connection.close();
      });
    }
    let gateway: RunningGateway | undefined;
    if (gatewayPort !== undefined) {
      const started = await startDevGateway({
        temporalAddress: server.address,
        namespace: 'default',
        taskQueue,
        port: gatewayPort,
        logger: options.logger,
        config,
        simulator,
        env,
        dataDir,
      });
      stops.push(started.stop);
      gateway = started.gateway;
    }
    return {
      temporalAddress: server.address,
      namespace: 'default',
      taskQueue,
      uiUrl: server.uiUrl,
      simulator,
      gateway,
      dataDir,
      providers: {
        names: config.providers.map((p) => p.name),
        source: env[PROVIDERS_FILE_ENV] ?? "the simulator's twins; relay served but not in the chain",
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
