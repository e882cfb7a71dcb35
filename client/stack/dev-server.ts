/**
 * `temporal server start-dev` as a child process we own: loopback only, SQLite persistence,
 * the project's custom search attributes registered at start, output to a log file, and a
 * promise that resolves only once the frontend answers for the namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { allSearchAttributes, cliTypeNames } from '../../workflows/search-attributes';
import { freePort, readTail, startWatchdog, track } from '../../common/process';
import { resolveTemporalCli } from './temporal-binaries';

/** What `--search-attribute` needs; every `defineSearchAttributeKey(...)` result fits. */
export interface SearchAttributeSpec {
  name: string;
  type: SearchAttributeType;
}

export interface DevServerOptions {
  /** Frontend gRPC port; a free one when unset. */
  port?: number;
  /** Web UI port; a free one when unset (and the UI is on). */
  uiPort?: number;
  /** SQLite file; data survives restarts on the same file. Unset: in memory, gone on stop. */
  dbFile?: string;
  /** Created at start if missing. Default `default` (which always exists). */
  namespace?: string;
  /** Serve the Web UI. Default true, like the CLI. */
  ui?: boolean;
  /**
   * Where the server's stdout/stderr go (appended). Default `temporal.log` beside dbFile, else in
   * a temp folder that stop() removes.
   */
  logFile?: string;
  /** Remote codec endpoint the Web UI calls to decode payloads. */
  codecEndpoint?: string;
  /** Custom search attributes to register. Default: every key in workflows/search-attributes. */
  searchAttributes?: readonly SearchAttributeSpec[];
  /** Extra `--dynamic-config-value KEY=JSON` pairs. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** The `temporal` binary. Default: {@link resolveTemporalCli} (installing the project-local copy if missing). */
  executable?: string;
  /** How long to wait for the frontend to answer. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface DevServer {
  /** `127.0.0.1:PORT`, for `Connection.connect({ address })`. */
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
  logFile: string;
  dbFile?: string;
  /** SIGTERM, wait for exit, SIGKILL after 10 s. Safe to call twice. */
  stop(): Promise<void>;
}

/** The server exited, or never answered, during start. `logTail` is the end of its log. */
export class DevServerStartError extends Error {
  override readonly name = 'DevServerStartError';
  constructor(
    message: string,
    readonly logFile: string,
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}\n--- ${logFile} (tail) ---\n${logTail}`, options);
  }
}

const LOOPBACK = '127.0.0.1';
const STOP_GRACE_MS = 10_000;

/** The `temporal server start-dev` arguments for these options (exported for tests and docs). */
export function devServerArgs(options: {
  port: number;
  uiPort?: number;
  dbFile?: string;
  namespace: string;
  codecEndpoint?: string;
  searchAttributes: readonly SearchAttributeSpec[];
  dynamicConfig?: Record<string, string | number | boolean>;
}): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    LOOPBACK,
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
  ];
  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const key of options.searchAttributes) args.push('--search-attribute', `${key.name}=${cliTypeNames[key.type]}`);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  args.push('--log-level', 'warn', '--color', 'never');
  return args;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

type Exit = { code: number | null; signal: NodeJS.Signals | null; error?: Error };

/**
 * One readiness probe: the frontend answers getSystemInfo, the namespace is registered, and so
 * are the custom search attributes (registered by the CLI right after the frontend comes up).
 */
async function probe(address: string, namespace: string, searchAttributeNames: string[]): Promise<void> {
  // lazy + ensureConnected rather than connect(): a failed connect() would leak its channel,
  // which keeps retrying (and keeps the process alive).
  const connection = Connection.lazy({ address, connectTimeout: 2_000 });
  try {
    await connection.ensureConnected();
    await connection.withDeadline(Date.now() + 3_000, async () => {
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.describeNamespace({ namespace });
      if (searchAttributeNames.length === 0) return;
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = searchAttributeNames.filter((name) => !(name in (customAttributes ?? {})));
      if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
    });
  } finally {
    await connection.close();
  }
}

/**
 * Start `temporal server start-dev` and resolve once it serves `namespace`. Throws
 * {@link DevServerStartError} (with the log tail) when the process exits early or is not ready
 * within `readyTimeoutMs`; the process is stopped in that case.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const executable = options.executable ?? (await resolveTemporalCli({ install: true }));
  const namespace = options.namespace ?? 'default';
  const ui = options.ui ?? true;
  const dbFile = options.dbFile ? resolve(options.dbFile) : undefined;
  if (dbFile) await mkdir(dirname(dbFile), { recursive: true });
  // With neither a log file nor a db file there is no folder of the caller's to log into: use a
  // temp folder of ours, removed again by stop() (but kept when the start fails, for the log).
  const ownedLogDir = options.logFile || dbFile ? undefined : await mkdtemp(join(tmpdir(), 'temporal-dev-'));
  const logFile = options.logFile
    ? resolve(options.logFile)
    : join(ownedLogDir ?? dirname(dbFile as string), 'temporal.log');
  await mkdir(dirname(logFile), { recursive: true });

  const port = options.port ?? (await freePort());
  const uiPort = ui ? (options.uiPort ?? (await freePort())) : undefined;
  const searchAttributes = options.searchAttributes ?? allSearchAttributes;
  const args = devServerArgs({
    port,
    uiPort,
    dbFile,
    namespace,
    codecEndpoint: options.codecEndpoint,
    searchAttributes,
    dynamicConfig: options.dynamicConfig,
  });
  const address = `${LOOPBACK}:${port}`;

  const out = openSync(logFile, 'a');
  const logStart = (await stat(logFile)).size;
  let child: ChildProcess;
  try {
    writeSync(out, `\n--- ${new Date().toISOString()} ${executable} ${args.join(' ')}\n`);
    child = spawn(executable, args, { stdio: ['ignore', out, out], detached: false, windowsHide: true });
  } finally {
    closeSync(out);
  }

  let exit: Exit | undefined;
  const exited = new Promise<Exit>((done) => {
    child.once('error', (error) => done((exit ??= { code: null, signal: null, error })));
    child.once('exit', (code, signal) => done((exit ??= { code, signal })));
  });
  if (child.pid !== undefined) track(child);
  const watchdog = child.pid !== undefined ? startWatchdog(child.pid) : undefined;

  let stopping: Promise<void> | undefined;
  const terminate = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!exit) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), STOP_GRACE_MS)));
        const first = await Promise.race([exited, graceOver]);
        clearTimeout(timer);
        if (first === 'timeout') {
          child.kill('SIGKILL');
          await exited;
        }
      }
      watchdog?.kill('SIGTERM');
    })());
  const stop = async (): Promise<void> => {
    await terminate();
    if (ownedLogDir) await rm(ownedLogDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  const names = searchAttributes.map((key) => key.name);
  let lastError: unknown;
  for (;;) {
    const outcome = await Promise.race([
      probe(address, namespace, names).then(
        () => 'ready' as const,
        (err: unknown) => {
          lastError = err;
          return 'retry' as const;
        },
      ),
      exited.then(() => 'exited' as const),
    ]);
    if (outcome === 'ready') break;
    if (outcome === 'exited' || exit) {
      await terminate();
      const how = exit?.error
        ? `could not be started (${exit.error.message})`
        : `exited with ${exit?.signal ?? `code ${exit?.code}`}`;
      throw new DevServerStartError(
        `temporal server start-dev ${how} before it was ready`,
        logFile,
        await readTail(logFile, logStart),
        {
          cause: exit?.error,
        },
      );
    }
    if (Date.now() > deadline) {
      await terminate();
      const why = lastError instanceof Error ? lastError.message : String(lastError);
      throw new DevServerStartError(
        `temporal server start-dev at ${address} not ready after ${options.readyTimeoutMs ?? 30_000} ms (${why})`,
        logFile,
        await readTail(logFile, logStart),
        {
          cause: lastError,
        },
      );
    }
    await Promise.race([sleep(250), exited]);
  }

  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://${LOOPBACK}:${uiPort}`,
    pid: child.pid as number,
    logFile,
    dbFile,
    stop,
  };
}
