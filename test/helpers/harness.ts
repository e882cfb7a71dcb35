import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker, type WorkflowBundleOption } from '@temporalio/worker';
import pino from 'pino';
import { defaultProviderConfig, type ProvidersConfig } from '../../activities/providers/config';
import { SIMULATOR_KEYS } from '../../client/stack/dev-stack';
import { startSimulator, type RunningSimulator, type Scenario, type SimulatorOptions } from '../../simulator/server';
import { startSeries } from '../../client/series/series-client';
import type { SeriesInput, SeriesResult } from '../../workflows/types';
import { activityDepsFromEnv } from '../../workers/activity-deps';
import { createSeriesWorker } from '../../workers/series-worker';
import { bundleSources, TEST_WORKFLOW_BUNDLE_ENV } from './workflow-code';

let bundle: Promise<WorkflowBundleOption> | undefined;

/** SDK logs at ERROR only (tests provoke activity failures on purpose), so test output shows what matters. Once per process. */
export function quietRuntime(): void {
  try {
    // Core (Rust) logs go straight to the console: filtered at ERROR. (Forwarding them would hold
    // a native handle that keeps jest alive in files that never run an in-process worker.)
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, console: {} } },
    });
  } catch {
    // already installed by an earlier test file in this process
  }
}
quietRuntime();

/** The run's bundle from the global setup (bundling takes seconds); without one, one per test file. */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  const codePath = process.env[TEST_WORKFLOW_BUNDLE_ENV];
  bundle ??= codePath ? Promise.resolve({ codePath }) : bundleSources();
  return bundle;
}

export function temporalAddress(): string {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address)
    throw new Error(
      'TEMPORAL_TEST_ADDRESS is not set: run the tests through jest (its global setup starts the dev server)',
    );
  return address;
}

export interface Harness {
  client: Client;
  sim: RunningSimulator;
  taskQueue: string;
  dataDir: string;
  /** The worker polling now (startWorker replaces it). */
  readonly worker: Worker;
  logLines: string[];
  /** Stops the worker: workflow tasks wait on the queue, so messages sent meanwhile reach a workflow in one task. */
  stopWorker(): Promise<void>;
  /** A new worker on the same task queue, after stopWorker. */
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

let queues = 0;

/**
 * A real stack for one suite: the shared dev server, a fresh simulator on a random port,
 * a real worker on its own task queue with real providers over HTTP.
 */
export interface HarnessOptions {
  simulator?: Partial<SimulatorOptions>;
  pollIntervalMs?: number;
  /** Per-request upstream timeout; short in fault drills so a hanging upstream costs seconds. */
  providerTimeoutMs?: number;
  /**
   * The worker's providers (default: the dev stack's, defaultProviderConfig); `tuning` is the
   * harness's timeout and the simulator's job length (so the first status check is planned for it).
   */
  providers?: (sim: RunningSimulator, tuning: { timeoutMs?: number; expectedJobSeconds?: number }) => ProvidersConfig;
}

/** The harness simulator's job length unless a suite sets its own. */
const HARNESS_JOB_SECONDS = 0.5;

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sora-series-test-'));
  const sim = await startSimulator({
    port: 0,
    seed: 7,
    jobSeconds: HARNESS_JOB_SECONDS,
    keys: {
      official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY,
      relay: SIMULATOR_KEYS.SORA_RELAY_KEY,
      seedance: SIMULATOR_KEYS.SORA_SEEDANCE_KEY,
      kling: SIMULATOR_KEYS.SORA_KLING_KEY,
    },
    ...options.simulator,
  });
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const env = {
    ...SIMULATOR_KEYS,
    SORA_SERIES_DATA_DIR: dataDir,
    SORA_SERIES_POLL_MS: String(options.pollIntervalMs ?? 100),
    SORA_SERIES_ALLOW_PRIVATE_URLS: '1', // the simulator is on loopback
  };
  const deps = activityDepsFromEnv(
    logger,
    env,
    (options.providers ?? ((s, tuning) => defaultProviderConfig(s.url, tuning)))(sim, {
      timeoutMs: options.providerTimeoutMs,
      expectedJobSeconds: Math.max(0.1, options.simulator?.jobSeconds ?? HARNESS_JOB_SECONDS),
    }),
  );
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = `test-${process.pid}-${++queues}-${Date.now()}`;
  const createWorker = async () =>
    createSeriesWorker({ connection, namespace: 'default', taskQueue, deps, workflowBundle: await workflowBundle() });
  let worker = await createWorker();
  let running: Promise<void> | undefined = worker.run();
  const stopWorker = async () => {
    if (!running) return;
    worker.shutdown();
    await running;
    running = undefined;
  };
  const clientConnection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  return {
    client,
    sim,
    taskQueue,
    dataDir,
    get worker() {
      return worker;
    },
    logLines,
    stopWorker,
    async startWorker() {
      if (running) return;
      worker = await createWorker();
      running = worker.run();
    },
    async stop() {
      await stopWorker();
      await connection.close();
      await clientConnection.close();
      await sim.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a series to its result with the simulator under `scenario`, then puts the simulator back to no faults. */
export async function seriesUnder(h: Harness, scenario: Scenario, input: SeriesInput): Promise<SeriesResult> {
  h.sim.setScenario(scenario);
  try {
    return await (await startSeries(h.client, input, { taskQueue: h.taskQueue })).result();
  } finally {
    h.sim.setScenario({});
  }
}
