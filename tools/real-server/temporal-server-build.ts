/**
 * The real Temporal server (`go.temporal.io/server`, the same code as the `temporalio/server`
 * image) built from source with the machine's Go toolchain, once per version, into
 * `<projectRoot>/.tools/temporal-server/<version>/`:
 *
 *   temporal-server      the server (`--allow-no-auth start`)
 *   temporal-sql-tool    schema setup for PostgreSQL/MySQL/SQLite (schemas are embedded in it)
 *   build.json           what was built, with which Go, how long it took
 *
 * Modules come from the Go module proxy through `go install <pkg>@<version>`, so the server's own
 * go.mod and go.sum pin every dependency. Go's module and build caches (GOMODCACHE, GOCACHE) are
 * the user's usual ones: a second version, or a rebuild after `.tools` was deleted, is much faster.
 *
 * `node dist/tools/real-server/temporal-server-build.js [version]` builds (or finds) it and prints where.
 */
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastLines } from '../../common/process';
import { findProjectRoot } from '../../common/project-root';

/** Same release as the compose file's `temporalio/server` and `temporalio/admin-tools` images. */
export const TEMPORAL_SERVER_VERSION = 'v1.30.1';
const MODULE = 'go.temporal.io/server';
const PACKAGES = { server: `${MODULE}/cmd/server`, sqlTool: `${MODULE}/cmd/tools/sql` } as const;

export interface TemporalServerBinaries {
  version: string;
  dir: string;
  /** `temporal-server` */
  server: string;
  /** `temporal-sql-tool` */
  sqlTool: string;
}

export interface BuildInfo {
  version: string;
  go: string;
  seconds: number;
  builtAt: string;
  bytes: { server: number; sqlTool: number };
}

export interface TemporalServerBuildOptions {
  version?: string;
  projectRoot?: string;
  /** Environment for `go` (GOPROXY, GOMODCACHE, GOCACHE, ...). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
  /** Give up on `go install` after this long. Default 60 min (a cold build took 8 min on the 2-core build machine under load). */
  timeoutMs?: number;
}

/** Go is missing or too old, or the build failed: the message says which and what to do. */
export class TemporalServerBuildError extends Error {
  override readonly name = 'TemporalServerBuildError';
}

export function temporalServerDir(
  version: string = TEMPORAL_SERVER_VERSION,
  projectRoot: string = findProjectRoot(),
): string {
  return join(projectRoot, '.tools', 'temporal-server', version);
}

function binariesIn(dir: string, version: string): TemporalServerBinaries {
  return { version, dir, server: join(dir, 'temporal-server'), sqlTool: join(dir, 'temporal-sql-tool') };
}

const executable = (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

/** The cached build of `version`, if complete (both binaries and build.json, which is written last). */
export async function findTemporalServer(
  options: Pick<TemporalServerBuildOptions, 'version' | 'projectRoot'> = {},
): Promise<(TemporalServerBinaries & { info: BuildInfo }) | undefined> {
  const version = options.version ?? TEMPORAL_SERVER_VERSION;
  const found = binariesIn(temporalServerDir(version, options.projectRoot), version);
  try {
    const info = JSON.parse(await readFile(join(found.dir, 'build.json'), 'utf8')) as BuildInfo;
    if ((await executable(found.server)) && (await executable(found.sqlTool))) return { ...found, info };
  } catch {
    // not built (or half-removed): build again
  }
  return undefined;
}

function goVersion(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((done, fail) => {
    execFile('go', ['env', 'GOVERSION'], { env, timeout: 30_000 }, (err, stdout) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        fail(
          new TemporalServerBuildError(
            missing
              ? `Go is not on PATH: building the Temporal server needs Go 1.25 or newer (https://go.dev/doc/install, or Debian's golang from backports).`
              : `\`go env GOVERSION\` failed: ${err.message}`,
          ),
        );
      } else done(stdout.trim());
    });
  });
}

/** `go install` with the output kept (its tail goes into the error when it fails). */
function goInstall(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('go', ['install', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(new TemporalServerBuildError(`go install could not run: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return done();
      const why = signal
        ? `was stopped (${signal}${signal === 'SIGKILL' ? `, over ${Math.round(timeoutMs / 60_000)} min` : ''})`
        : `exited with ${code}`;
      fail(new TemporalServerBuildError(`go install ${args.join(' ')} ${why}:\n${lastLines(output, 25)}`));
    });
  });
}

/**
 * The Temporal server binaries of `version`: the cached build, else a new one (minutes, with
 * about 1.6 GB of modules and 1.3 GB of Go build cache on first use; seconds once those caches
 * are warm). Concurrent callers may both build; the first finished build wins, the other's is
 * discarded.
 */
export async function ensureTemporalServer(
  options: TemporalServerBuildOptions = {},
): Promise<TemporalServerBinaries & { info: BuildInfo; built: boolean }> {
  const version = options.version ?? TEMPORAL_SERVER_VERSION;
  const projectRoot = options.projectRoot ?? findProjectRoot();
  const cached = await findTemporalServer({ version, projectRoot });
  if (cached) return { ...cached, built: false };

  const log = options.log ?? (() => undefined);
  const baseEnv = options.env ?? process.env;
  const go = await goVersion(baseEnv);
  const finalDir = temporalServerDir(version, projectRoot);
  const parent = join(finalDir, '..');
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.build-${version}-`));
  try {
    // Static binaries (no C toolchain needed), no local paths or symbol tables in them.
    const env = {
      ...baseEnv,
      GOBIN: staging,
      CGO_ENABLED: '0',
      GOFLAGS: [baseEnv.GOFLAGS, '-trimpath'].filter(Boolean).join(' '),
    };
    log(`building ${MODULE} ${version} with ${go} into ${finalDir} (first time only; takes minutes)`);
    const began = Date.now();
    await goInstall(
      ['-ldflags=-s -w', `${PACKAGES.server}@${version}`, `${PACKAGES.sqlTool}@${version}`],
      env,
      options.timeoutMs ?? 60 * 60_000,
    );
    const seconds = Math.round((Date.now() - began) / 100) / 10;
    const staged = binariesIn(staging, version);
    await rename(join(staging, 'server'), staged.server);
    await rename(join(staging, 'sql'), staged.sqlTool);
    const info: BuildInfo = {
      version,
      go,
      seconds,
      builtAt: new Date().toISOString(),
      bytes: { server: (await stat(staged.server)).size, sqlTool: (await stat(staged.sqlTool)).size },
    };
    await writeFile(join(staging, 'build.json'), `${JSON.stringify(info, null, 2)}\n`);
    try {
      await rename(staging, finalDir);
    } catch {
      // Another build finished first: use it. Otherwise an incomplete leftover is in the way
      // (builds only ever appear there whole, by this rename): replace it.
      const other = await findTemporalServer({ version, projectRoot });
      if (other) return { ...other, built: false };
      await rm(finalDir, { recursive: true, force: true });
      await rename(staging, finalDir);
    }
    log(
      `built temporal-server ${version} in ${seconds} s (${mb(info.bytes.server)} MB, temporal-sql-tool ${mb(info.bytes.sqlTool)} MB)`,
    );
    return { ...binariesIn(finalDir, version), info, built: true };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

if (require.main === module) {
  ensureTemporalServer({ version: process.argv[2], log: (line) => console.log(line) }).then(
    (found) => {
      const how = found.built ? 'built now' : `cached, built ${found.info.builtAt} in ${found.info.seconds} s`;
      console.log(`temporal-server ${found.version}: ${found.server} [${how}, ${found.info.go}]`);
      console.log(`temporal-sql-tool: ${found.sqlTool}`);
    },
    (err: Error) => {
      console.error(`${err.name}: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
