/**
 * The production topology without containers: the real Temporal server (built from source by
 * temporal-server-build.ts) on a local PostgreSQL (postgres.ts), set up the way the compose stack
 * sets up its own: both schemas by temporal-sql-tool, the namespace registered, the project's
 * search attributes added. Workers and clients then connect to `address` like to any cluster.
 *
 * All four services (frontend, history, matching, worker) run in one `temporal-server` process on
 * loopback ports picked at start. The database password reaches the server only through its
 * environment (the config file is a template that reads it), never through arguments or files.
 *
 * `npm run real-server` (node dist/tools/real-server/temporal-postgres.js) runs it until Ctrl-C
 * (building the server first if needed) and prints the address: `TEMPORAL_ADDRESS=<it> node
 * dist/workers/main.js` joins it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { google, temporal } from '@temporalio/proto';
import { allSearchAttributes } from '../../workflows/search-attributes';
import { readTail, startWatchdog, track } from '../../common/process';
import type { SearchAttributeSpec } from '../../client/stack/dev-server';
import { startPostgres, type RunningPostgres } from './postgres';
import { ensureTemporalServer, type TemporalServerBinaries } from './temporal-server-build';

const HOST = '127.0.0.1';
const DATABASES = [
  { name: 'temporal', schema: 'postgresql/v12/temporal' },
  { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;
/** The server reads the database password from this variable (config template). */
const PASSWORD_ENV = 'SORA_SERIES_TEMPORAL_DB_PASSWORD';

export interface TemporalOnPostgresOptions {
  /** Default: the cached build of TEMPORAL_SERVER_VERSION, built now if missing. */
  binaries?: TemporalServerBinaries;
  /** A cluster to use (left running by stop()); default a private one, stopped by stop(). */
  postgres?: RunningPostgres;
  /** Registered at start if missing. Default `default`. */
  namespace?: string;
  /** Added at start if missing. Default every key in workflows/search-attributes. */
  searchAttributes?: readonly SearchAttributeSpec[];
  /** Where config and server log go; default a temp folder, removed by stop(). */
  dir?: string;
  /** How long the server may take to answer after each start. Default 90 s. */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface TemporalOnPostgres {
  /** Frontend, `127.0.0.1:PORT`. */
  address: string;
  namespace: string;
  postgres: RunningPostgres;
  binaries: TemporalServerBinaries;
  logFile: string;
  /** Seconds each setup step took, for reports. */
  timings: Record<'postgres' | 'schema' | 'server' | 'namespace', number>;
  /** Stop the server process only; its state stays in PostgreSQL. */
  stopServer(): Promise<void>;
  /** Start it again on the same ports and databases; resolves once it answers. */
  startServer(): Promise<void>;
  /** Server, then the PostgreSQL cluster if we started it, then the temp folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** The server failed to start or set up (the message ends with its log tail where there is one). */
export class TemporalOnPostgresError extends Error {
  override readonly name = 'TemporalOnPostgresError';
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const since = (began: number) => Math.round((Date.now() - began) / 100) / 10;

function runTool(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => done({ code: -1, output: err.message }));
    child.once('exit', (code) => done({ code, output }));
  });
}

/** Both databases created and brought to the schema version this server embeds (idempotent). */
export async function setupSchemas(binaries: TemporalServerBinaries, pg: RunningPostgres): Promise<void> {
  for (const db of DATABASES) {
    // temporal-sql-tool reads connection and password from SQL_* variables: nothing secret in argv.
    const env = {
      PATH: process.env.PATH,
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: pg.host,
      SQL_PORT: String(pg.port),
      SQL_USER: pg.user,
      SQL_PASSWORD: pg.password,
      SQL_DATABASE: db.name,
    };
    const steps: Array<{ args: string[]; tolerate?: RegExp }> = [
      { args: ['create-database', '--defaultdb', 'postgres'], tolerate: /already exists/ },
      { args: ['setup-schema', '-v', '0.0'] },
      { args: ['update-schema', '--schema-name', db.schema] },
    ];
    for (const step of steps) {
      const result = await runTool(binaries.sqlTool, step.args, env);
      if (result.code !== 0 && !step.tolerate?.test(result.output)) {
        throw new TemporalOnPostgresError(
          `temporal-sql-tool ${step.args.join(' ')} on ${db.name} failed (exit ${result.code}):\n${result.output.trim().split('\n').slice(-15).join('\n')}`,
        );
      }
    }
  }
}

interface Ports {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** Whether `port` can be bound on loopback right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', () => done(false));
    probe.listen(port, HOST, () => probe.close(() => done(true)));
  });
}

/**
 * Free ports below 32768: the server stores its membership port in a PostgreSQL `smallint`
 * (cluster_membership.rpc_port), so the kernel's ephemeral ports (32768 and up) would fail its start.
 */
async function freePorts(): Promise<Ports> {
  const names: Array<keyof Ports> = [
    'frontend',
    'frontendHttp',
    'frontendMembership',
    'history',
    'historyMembership',
    'matching',
    'matchingMembership',
    'worker',
    'workerMembership',
  ];
  const ports = new Set<number>();
  for (let tries = 0; ports.size < names.length; tries++) {
    if (tries > 1000) throw new TemporalOnPostgresError('no free ports between 20000 and 32767 on loopback');
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (!ports.has(port) && (await canBind(port))) ports.add(port);
  }
  const list = [...ports];
  return Object.fromEntries(names.map((name, i) => [name, list[i]])) as unknown as Ports;
}

/** The server's static config: one process, all services, PostgreSQL for history and visibility. */
export function serverConfig(
  pg: Pick<RunningPostgres, 'host' | 'port' | 'user'>,
  ports: Ports,
  dynamicConfigFile: string,
): string {
  const datastore = (database: string, maxConns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${pg.host}:${pg.port}"
        connectProtocol: tcp
        user: ${JSON.stringify(pg.user)}
        password: {{ env "${PASSWORD_ENV}" | quote }}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, http?: number) => `
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  return `# enable-template: the database password comes from the environment (${PASSWORD_ENV})
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:${datastore('temporal', 20)}
    visibility:${datastore('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${HOST}
services:
  frontend:${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  history:${service(ports.history, ports.historyMembership)}
  matching:${service(ports.matching, ports.matchingMembership)}
  worker:${service(ports.worker, ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: ${HOST}:${ports.frontend}
dcRedirectionPolicy:
  policy: noop
archival:
  history:
    state: disabled
  visibility:
    state: disabled
namespaceDefaults:
  archival:
    history:
      state: disabled
    visibility:
      state: disabled
dynamicConfigClient:
  filepath: ${JSON.stringify(dynamicConfigFile)}
  pollInterval: 10s
`;
}

const IVT = temporal.api.enums.v1.IndexedValueType;
const INDEXED_VALUE_TYPES: Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  TEXT: IVT.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IVT.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IVT.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IVT.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IVT.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Search attributes added through the operator API are usable at once, without waiting for a cache refresh. */
const DYNAMIC_CONFIG = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
    constraints: {}
`;

/** Resolves when `attempt` does, retrying until the deadline (a starting server refuses for a while). */
async function retry<T>(
  what: string,
  attempt: () => Promise<T>,
  deadline: number,
  alive: () => string | undefined,
): Promise<T> {
  let last: unknown;
  for (;;) {
    const gone = alive();
    if (gone) throw new TemporalOnPostgresError(`temporal-server ${gone} while waiting for ${what}`);
    try {
      return await attempt();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new TemporalOnPostgresError(
        `timed out waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`,
      );
    await sleep(300);
  }
}

/**
 * Builds (if needed) and starts the real server on PostgreSQL, with the namespace and the
 * project's search attributes. On failure everything started here is stopped again.
 */
export async function startTemporalOnPostgres(options: TemporalOnPostgresOptions = {}): Promise<TemporalOnPostgres> {
  const log = options.log ?? (() => undefined);
  const namespace = options.namespace ?? 'default';
  const searchAttributes = options.searchAttributes ?? allSearchAttributes;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const binaries = options.binaries ?? (await ensureTemporalServer({ log }));
  const ownedDir = options.dir ? undefined : await mkdtemp(join(tmpdir(), 'sora-series-temporal-pg-'));
  const dir = options.dir ?? ownedDir!;
  await mkdir(join(dir, 'config'), { recursive: true });
  const logFile = join(dir, 'temporal-server.log');
  const timings = { postgres: 0, schema: 0, server: 0, namespace: 0 };

  let pg: RunningPostgres | undefined = options.postgres;
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let exit: string | undefined;
  let stopping: Promise<void> | undefined;

  const stopServer = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((done) => running.once('exit', done));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    watchdog?.kill('SIGTERM');
    watchdog = undefined;
  };
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await stopServer();
      if (pg && pg !== options.postgres) await pg.stop();
      if (ownedDir) await rm(ownedDir, { recursive: true, force: true });
    })());

  let ports: Ports;
  let address: string;
  const serverEnv = () => ({ PATH: process.env.PATH, [PASSWORD_ENV]: pg!.password });

  const startServer = async (): Promise<void> => {
    if (child) throw new TemporalOnPostgresError('temporal-server is already running');
    const began = Date.now();
    const out = openSync(logFile, 'a');
    const logStart = (await stat(logFile)).size;
    try {
      writeSync(out, `\n--- ${new Date().toISOString()} temporal-server ${binaries.version} on ${address}\n`);
      exit = undefined;
      child = spawn(
        binaries.server,
        ['--root', dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'],
        {
          cwd: dir,
          env: serverEnv(),
          stdio: ['ignore', out, out],
        },
      );
    } finally {
      closeSync(out);
    }
    const started = child;
    started.once('error', (err) => (exit = `could not be started (${err.message})`));
    started.once('exit', (code, signal) => {
      if (child === started) exit ??= `exited with ${signal ?? `code ${code}`}`;
    });
    if (started.pid !== undefined) {
      track(started);
      watchdog = startWatchdog(started.pid);
    }
    const connection = Connection.lazy({ address, connectTimeout: 2_000 });
    try {
      await retry(
        `the frontend at ${address}`,
        async () => {
          await connection.ensureConnected();
          await connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({}));
        },
        Date.now() + readyTimeoutMs,
        () => exit,
      );
    } catch (err) {
      const tail = await readTail(logFile, logStart);
      await stopServer();
      throw new TemporalOnPostgresError(`${(err as Error).message}\n--- ${logFile} (tail) ---\n${tail}`);
    } finally {
      await connection.close();
    }
    timings.server = since(began);
  };

  try {
    let began = Date.now();
    pg ??= await startPostgres();
    timings.postgres = since(began);
    log(`postgres: ${pg.host}:${pg.port} (${pg.binDir})`);

    began = Date.now();
    await setupSchemas(binaries, pg);
    timings.schema = since(began);

    ports = await freePorts();
    address = `${HOST}:${ports.frontend}`;
    const dynamicConfigFile = join(dir, 'config', 'dynamicconfig.yaml');
    await writeFile(dynamicConfigFile, DYNAMIC_CONFIG);
    await writeFile(join(dir, 'config', 'production.yaml'), serverConfig(pg, ports, dynamicConfigFile));
    await startServer();
    log(`temporal-server ${binaries.version}: ${address} (log ${logFile})`);

    began = Date.now();
    await registerNamespace(address, namespace, searchAttributes, Date.now() + readyTimeoutMs, () => exit);
    timings.namespace = since(began);
  } catch (err) {
    await stop();
    throw err;
  }

  return { address, namespace, postgres: pg, binaries, logFile, timings, stopServer, startServer, stop };
}

/**
 * The namespace (1-day retention) and the search attributes, each only if missing, then waits
 * until both are served (a new namespace reaches the frontend's cache within seconds).
 */
export async function registerNamespace(
  address: string,
  namespace: string,
  searchAttributes: readonly SearchAttributeSpec[],
  deadline: number,
  alive: () => string | undefined = () => undefined,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const { workflowService, operatorService } = connection;
    const exists = await workflowService.describeNamespace({ namespace }).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await workflowService
        .registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: google.protobuf.Duration.fromObject({ seconds: 24 * 60 * 60 }),
        })
        .catch((err: Error) => {
          if (!/already exists/i.test(err.message)) throw err;
        });
    }
    const present = await retry(
      `namespace ${namespace}`,
      () => operatorService.listSearchAttributes({ namespace }),
      deadline,
      alive,
    );
    const missing = searchAttributes.filter((key) => !(key.name in (present.customAttributes ?? {})));
    if (missing.length > 0) {
      await retry(
        `search attributes ${missing.map((k) => k.name).join(', ')}`,
        () =>
          operatorService.addSearchAttributes({
            namespace,
            searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPES[k.type]])),
          }),
        deadline,
        alive,
      );
    }
    await retry(
      'search attributes to be listed',
      async () => {
        const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
        const absent = searchAttributes.filter((key) => !(key.name in (customAttributes ?? {})));
        if (absent.length > 0) throw new Error(`not yet: ${absent.map((k) => k.name).join(', ')}`);
      },
      deadline,
      alive,
    );
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  (async () => {
    const server = await startTemporalOnPostgres({ log: (line) => console.log(line) });
    console.log(
      `ready: TEMPORAL_ADDRESS=${server.address} TEMPORAL_NAMESPACE=${server.namespace} (Ctrl-C stops server and database)`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await server.stop();
  })().catch((err: Error) => {
    console.error(`${err.name}: ${err.message}`);
    process.exitCode = 1;
  });
}
