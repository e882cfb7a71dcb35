/**
 * The bench's own stack: a Temporal dev server (SQLite in a temp folder), one simulator per case
 * (each a provider in the bench's provider config file), and worker processes by role. Every
 * case talks to the real parts over real connections; nothing is mocked.
 */
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { ProviderConfigInput } from '../../activities/providers/config-schema';
import { SIMULATOR_KEYS } from '../../client/stack/dev-stack';
import { startDevServer, type DevServer } from '../../client/stack/dev-server';
import { providerSlotsWorkflowId } from '../../workflows/ids';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/server';
import { NOOP_WORKER, PRODUCT_WORKER, spawnWorkerProcess, type WorkerProcess } from './processes';

export type ProviderEntry = ProviderConfigInput['providers'][number];

/** A simulator of the bench and the provider name the workers reach it by (if any). */
export interface SimulatorPlan {
  name: string;
  options: Omit<SimulatorOptions, 'keys' | 'port'>;
  provider?: {
    name: string;
    contract: 'relay-v1' | 'official';
    maxConcurrency: number;
    /** The provider profile's expected job length: the bench's simulated L. */
    expectedJobSeconds: number;
    webhooks?: boolean;
  };
}

export interface WorkerRole {
  role: string;
  pollMs: number;
  /** The no-op worker (bench workflows) instead of the product's. */
  noop?: boolean;
}

export interface BenchStack {
  client: Client;
  address: string;
  /** The dev server's process (undefined when the bench uses a server it did not start). */
  serverPid?: number;
  dir: string;
  simulators: Map<string, RunningSimulator>;
  providersFile: string;
  /** A local endpoint that answers 204 to anything: where webhooks go that nobody should act on. */
  sinkUrl: string;
  worker(role: string): WorkerProcess;
  pollMsOf(role: string): number;
  /** Starts a fresh worker process for a role (same queue, same settings): a replacement after a kill. */
  replaceWorker(role: string): WorkerProcess;
  /** Experiment: terminate the provider-slots limiters the workers started (series then use their own windows). */
  stopSharedLimits(): Promise<void>;
  log(line: string): void;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Use this Temporal frontend instead of starting a dev server (the smoke test reuses jest's). */
  temporalAddress?: string;
  simulators: SimulatorPlan[];
  /** Roles by worker: several roles may share one process (the smoke run does). */
  workers: Array<{ name: string; pollMs: number; noop?: boolean; roles: string[]; env?: Record<string, string> }>;
  log: (line: string) => void;
  /** Keep the temp folder (server log, worker logs, data) for a look afterwards. */
  keep?: boolean;
}

/** Environment of a bench worker: ours only, nothing inherited that could point it elsewhere. */
function workerEnv(base: NodeJS.ProcessEnv, own: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (!/^(TEMPORAL_|SORA_|LOG_LEVEL$)/.test(key)) env[key] = value;
  }
  return { ...env, ...SIMULATOR_KEYS, ...own };
}

async function startSink(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('sink has no port');
  return { url: `http://127.0.0.1:${address.port}/webhooks`, server };
}

export async function startBenchStack(options: StackOptions): Promise<BenchStack> {
  const dir = await mkdtemp(join(tmpdir(), 'sora-series-bench-'));
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch((err: Error) => options.log(`stop: ${err.message}`));
    if (options.keep) options.log(`kept ${dir} (server log, worker logs, data)`);
    else await rm(dir, { recursive: true, force: true });
  };
  try {
    let address = options.temporalAddress;
    let serverPid: number | undefined;
    if (!address) {
      options.log('starting the Temporal dev server (SQLite in a temp folder)');
      const server: DevServer = await startDevServer({
        ui: false,
        dbFile: join(dir, 'temporal.sqlite'),
        logFile: join(dir, 'temporal.log'),
      });
      stops.push(() => server.stop());
      address = server.address;
      serverPid = server.pid;
    }
    const connection = await Connection.connect({ address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });

    const sink = await startSink();
    stops.push(() => new Promise((done) => sink.server.close(done)));

    const simulators = new Map<string, RunningSimulator>();
    const providers: ProviderEntry[] = [];
    for (const plan of options.simulators) {
      const sim = await startSimulator({
        port: 0,
        keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
        ...plan.options,
      });
      stops.push(() => sim.close());
      simulators.set(plan.name, sim);
      if (!plan.provider) continue;
      const { name, contract, maxConcurrency, expectedJobSeconds, webhooks } = plan.provider;
      const tuning = { maxConcurrency, expectedJobSeconds, ...(webhooks ? { webhooks } : {}) };
      providers.push(
        contract === 'official'
          ? { name, contract, baseUrl: sim.officialBaseUrl, keyEnv: 'SORA_OFFICIAL_KEY', model: 'sora-2', ...tuning }
          : { name, contract, baseUrl: sim.relayBaseUrl, keyEnv: 'SORA_RELAY_KEY', ...tuning },
      );
    }
    // Workers start one provider-slots limiter per provider and queue; they outlive series, not the bench.
    const queues: string[] = [];
    const stopLimiters = async (reason: string) => {
      await Promise.all(
        queues.flatMap((queue) =>
          providers.map((p) =>
            client.workflow
              .getHandle(providerSlotsWorkflowId(queue, p.name))
              .terminate(reason)
              .catch(() => undefined),
          ),
        ),
      );
    };
    stops.push(() => stopLimiters('bench over'));
    const providersFile = join(dir, 'providers.json');
    await writeFile(providersFile, JSON.stringify({ providers }, null, 2));

    const logDir = join(dir, 'logs');
    await mkdir(logDir, { recursive: true });
    const byRole = new Map<string, { spec: StackOptions['workers'][number]; process: WorkerProcess }>();
    const spawnFor = (spec: StackOptions['workers'][number]): WorkerProcess => {
      const taskQueue = `bench-${spec.name}-${process.pid}`;
      if (!queues.includes(taskQueue)) queues.push(taskQueue);
      const env = workerEnv(process.env, {
        TEMPORAL_ADDRESS: address!,
        TEMPORAL_NAMESPACE: 'default',
        SORA_SERIES_TASK_QUEUE: taskQueue,
        SORA_SERIES_PROVIDERS: providersFile,
        SORA_SERIES_DATA_DIR: join(dir, `data-${spec.name}`),
        SORA_SERIES_POLL_MS: String(spec.pollMs),
        SORA_SERIES_ALLOW_PRIVATE_URLS: '1', // the simulators are on loopback
        SORA_SERIES_METRICS_ADDRESS: '127.0.0.1:0', // metrics on, as users run it, on a free port
        ...spec.env,
      });
      const worker = spawnWorkerProcess({
        name: spec.name,
        entry: spec.noop ? NOOP_WORKER : PRODUCT_WORKER,
        taskQueue,
        env,
        logDir,
        readyText: spec.noop ? '"msg":"noop worker started"' : '"msg":"worker started"',
      });
      stops.push(() => worker.stop());
      return worker;
    };
    for (const spec of options.workers) {
      const worker = spawnFor(spec);
      for (const role of spec.roles) byRole.set(role, { spec, process: worker });
    }
    options.log(`starting ${options.workers.length} worker processes (each bundles its workflow code)`);
    await Promise.all([...new Set([...byRole.values()].map((w) => w.process))].map((w) => w.ready()));

    const entry = (role: string) => {
      const found = byRole.get(role);
      if (!found) throw new Error(`no worker for role ${role}`);
      return found;
    };
    return {
      client,
      address,
      serverPid,
      dir,
      simulators,
      providersFile,
      sinkUrl: sink.url,
      worker: (role) => entry(role).process,
      pollMsOf: (role) => entry(role).spec.pollMs,
      replaceWorker(role) {
        const { spec, process: old } = entry(role);
        const fresh = spawnFor(spec);
        for (const [r, w] of byRole) if (w.process === old) byRole.set(r, { spec, process: fresh });
        return fresh;
      },
      stopSharedLimits: () => stopLimiters('bench experiment: without shared limits'),
      log: options.log,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
