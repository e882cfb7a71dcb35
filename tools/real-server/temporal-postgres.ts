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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { allSearchAttributes } from '../../workflows/search-attributes';
import { readTail, startWatchdog, track } from '../../common/process';
import type { SearchAttributeSpec } from '../../client/stack/dev-server';
import { TemporalOnPostgresError } from './errors';
import { registerNamespace } from './namespace-setup';
import { startPostgres, type RunningPostgres } from './postgres';
import { retryUntil } from './retry-until';
import { DYNAMIC_CONFIG, freePorts, HOST, PASSWORD_ENV, serverConfig, type Ports } from './server-config';
import { setupSchemas } from './sql-schemas';
import { ensureTemporalServer, type TemporalServerBinaries } from './temporal-server-build';

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

const since = (began: number) => Math.round((Date.now() - began) / 100) / 10;

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
      await retryUntil(
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
