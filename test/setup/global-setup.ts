/**
 * Jest global setup (runs once, in jest's own process, before any test file): make sure both
 * Temporal binaries exist (installing the project-local copies if needed), then start ONE dev
 * server for the whole run, and bundle the workflow sources once for every in-process worker.
 * Test files find them through `TEMPORAL_TEST_ADDRESS` and `SORA_SERIES_TEST_WORKFLOW_BUNDLE`;
 * environment variables set here are inherited by the test workers, which start afterwards.
 *
 * Set `TEMPORAL_TEST_ADDRESS` yourself to run the suites against a server you already have.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../../client/stack/dev-server';
import { resolveTemporalCli, resolveTestServer } from '../../client/stack/temporal-binaries';
import { TEST_WORKFLOW_BUNDLE_ENV, writeSourcesBundle } from '../helpers/workflow-code';

/** Global setup and teardown run in the same process: the handle travels on `globalThis`. */
export const GLOBAL_DEV_SERVER = Symbol.for('sora-series.jest.devServer');

export interface GlobalTestStack {
  /** Unset when the run uses a server of its own (`TEMPORAL_TEST_ADDRESS`). */
  server?: DevServer;
  /** Temp folder holding the SQLite file, the server log and the workflow bundle; removed at teardown. */
  dataDir: string;
}

export default async function globalSetup(): Promise<void> {
  // Tests run the simulator on loopback; suites that test the SSRF refusal set their own policy.
  process.env.SORA_SERIES_ALLOW_PRIVATE_URLS ??= '1';
  const cli = await resolveTemporalCli({ install: true });
  const testServer = await resolveTestServer({ install: true });
  process.env.TEMPORAL_CLI_PATH = cli;
  process.env.TEMPORAL_TEST_SERVER_PATH = testServer;
  process.env.TEMPORAL_TEST_NAMESPACE ??= 'default';

  const dataDir = await mkdtemp(join(tmpdir(), 'sora-series-jest-temporal-'));
  const stack: GlobalTestStack = { dataDir };
  (globalThis as Record<symbol, unknown>)[GLOBAL_DEV_SERVER] = stack;
  // The server starts while the bundle is made: one waits on a process, the other computes.
  const [server, bundlePath] = await Promise.all([
    process.env.TEMPORAL_TEST_ADDRESS
      ? undefined
      : startDevServer({
          executable: cli,
          ui: false,
          dbFile: join(dataDir, 'temporal.sqlite'),
          namespace: process.env.TEMPORAL_TEST_NAMESPACE,
        }),
    writeSourcesBundle(join(dataDir, 'workflow-bundle.js')),
  ]);
  process.env[TEST_WORKFLOW_BUNDLE_ENV] = bundlePath;
  if (!server) return;
  stack.server = server;
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
}
