/**
 * A private PostgreSQL cluster for one run, from Debian's packages (`apt-get install -y
 * postgresql`) and nothing else: `initdb` into a temp folder, `postgres` on a free loopback port
 * as a child process we own, one superuser with a random password (scram-sha-256; the password
 * only ever travels in environment variables), all removed again by stop().
 *
 * PostgreSQL refuses to run as root. As root, the cluster belongs to the `postgres` user that the
 * Debian package creates (SORA_SERIES_PG_USER names another), and its processes run as that user.
 * The cluster is disposable: fsync and full-page writes are off, which a crash of the machine
 * would not survive but a crash or restart of any process using it does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, closeSync, openSync } from 'node:fs';
import { access, chmod, chown, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { freePort, lastLines, readTail, runCommand, startWatchdog, track } from '../../common/process';

export const PG_BIN_ENV = 'SORA_SERIES_PG_BIN';
export const PG_USER_ENV = 'SORA_SERIES_PG_USER';

/** PostgreSQL is not installed, or cannot run here: the message says what to do. */
export class PostgresNotAvailable extends Error {
  override readonly name = 'PostgresNotAvailable';
}

export interface PostgresOptions {
  /** Superuser to create. Default `temporal`. */
  user?: string;
  /** Default: a free one. */
  port?: number;
  /** Folder to create the cluster's temp folder in. Default the OS temp folder (must be reachable by the `postgres` user). */
  parentDir?: string;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export interface RunningPostgres {
  host: string;
  port: number;
  user: string;
  /** Generated for this cluster; pass it on in environment variables only, never in arguments or logs. */
  password: string;
  /** The PostgreSQL version's bin folder (initdb, postgres, psql, pg_isready). */
  binDir: string;
  /** Temp folder: data/, postgres.log, the socket. Removed by stop(). */
  dir: string;
  logFile: string;
  pid: number;
  /** Runs SQL with psql and returns its unaligned output (`-At`). */
  query(database: string, sql: string): Promise<string>;
  /** Fast shutdown, then SIGKILL after 10 s; removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const COMMAND_TIMEOUT_MS = 60_000;
const REQUIRED = ['initdb', 'postgres', 'pg_isready', 'psql'];

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The bin folder with initdb and postgres: $SORA_SERIES_PG_BIN, else where `initdb` on PATH really
 * lives, else the newest /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH).
 */
export async function findPostgresBin(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates: string[] = [];
  if (env[PG_BIN_ENV]) candidates.push(env[PG_BIN_ENV]!);
  else {
    for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
      const initdb = join(dir, 'initdb');
      if (await isExecutable(initdb)) candidates.push(dirname(await realpath(initdb)));
    }
    const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
    versions.sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join('/usr/lib/postgresql', v, 'bin')));
  }
  for (const dir of candidates) {
    if ((await Promise.all(REQUIRED.map((name) => isExecutable(join(dir, name))))).every(Boolean)) return dir;
  }
  throw new PostgresNotAvailable(
    env[PG_BIN_ENV]
      ? `${PG_BIN_ENV}=${env[PG_BIN_ENV]} does not hold ${REQUIRED.join(', ')}`
      : `PostgreSQL's server programs (${REQUIRED.join(', ')}) were not found on PATH or in /usr/lib/postgresql/*/bin: apt-get install -y postgresql (or set ${PG_BIN_ENV} to their folder)`,
  );
}

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** Whom the cluster runs as: ourselves, or (as root) the `postgres` user. */
async function clusterOwner(env: NodeJS.ProcessEnv): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const name = env[PG_USER_ENV] || 'postgres';
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const entry = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name);
  if (!entry || !(Number(entry[2]) > 0)) {
    throw new PostgresNotAvailable(
      `PostgreSQL refuses to run as root, and there is no non-root user "${name}" to run it as: apt-get install -y postgresql creates "postgres" (or set ${PG_USER_ENV}, or run as a non-root user)`,
    );
  }
  return { name, uid: Number(entry[2]), gid: Number(entry[3]) };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** initdb + postgres on a free loopback port; resolves once it accepts connections. */
export async function startPostgres(options: PostgresOptions = {}): Promise<RunningPostgres> {
  const env = options.env ?? process.env;
  const binDir = await findPostgresBin(env);
  const owner = await clusterOwner(env);
  const user = options.user ?? 'temporal';
  const password = randomBytes(18).toString('base64url');
  const port = options.port ?? (await freePort(HOST));

  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'sora-series-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const quietEnv = { PATH: env.PATH, LANG: 'C', LC_ALL: 'C' };
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child!.once('exit', done));
        child.kill('SIGINT'); // fast shutdown: running transactions are rolled back
        const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      watchdog?.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    })());

  try {
    if (owner) await chown(dir, owner.uid, owner.gid);
    const pwFile = join(dir, 'pwfile');
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (owner) await chown(pwFile, owner.uid, owner.gid);
    const init = await runCommand(
      join(binDir, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        user,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ],
      { env: quietEnv, cwd: dir, timeoutMs: COMMAND_TIMEOUT_MS, ...asOwner },
    );
    await rm(pwFile, { force: true });
    if (init.code !== 0)
      throw new PostgresNotAvailable(
        `initdb failed (exit ${init.code}${owner ? `, as user ${owner.name}` : ''}):\n${lastLines(init.output)}`,
      );

    const out = openSync(logFile, 'a', 0o644);
    try {
      child = spawn(
        join(binDir, 'postgres'),
        [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-c',
          `listen_addresses=${HOST}`,
          '-c',
          `unix_socket_directories=${dir}`,
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=200',
        ],
        { env: quietEnv, cwd: dir, stdio: ['ignore', out, out], ...asOwner },
      );
    } finally {
      closeSync(out);
    }
    let exit: string | undefined;
    child.once('error', (err) => (exit = err.message));
    child.once('exit', (code, signal) => (exit ??= `exited with ${signal ?? code}`));
    if (child.pid !== undefined) {
      track(child);
      watchdog = startWatchdog(child.pid);
    }

    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (exit) throw new PostgresNotAvailable(`postgres ${exit} during start:\n${await readTail(logFile, 0)}`);
      const ready = await runCommand(
        join(binDir, 'pg_isready'),
        ['-h', HOST, '-p', String(port), '-d', 'postgres', '-t', '2'],
        { env: quietEnv, timeoutMs: 5_000 },
      );
      if (ready.code === 0) break;
      if (Date.now() > deadline)
        throw new PostgresNotAvailable(
          `postgres on ${HOST}:${port} not ready after ${options.readyTimeoutMs ?? 30_000} ms:\n${await readTail(logFile, 0)}`,
        );
      await sleep(200);
    }
    await chmod(logFile, 0o644).catch(() => undefined);
  } catch (err) {
    await stop();
    throw err;
  }

  const psqlEnv = { ...quietEnv, PGPASSWORD: password };
  return {
    host: HOST,
    port,
    user,
    password,
    binDir,
    dir,
    logFile,
    pid: child.pid as number,
    async query(database, sql) {
      const result = await runCommand(
        join(binDir, 'psql'),
        ['-h', HOST, '-p', String(port), '-U', user, '-d', database, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql],
        { env: psqlEnv, timeoutMs: COMMAND_TIMEOUT_MS },
      );
      if (result.code !== 0)
        throw new Error(`psql on ${database} failed (exit ${result.code}): ${result.output.trim()}`);
      return result.output.trim();
    },
    stop,
  };
}
