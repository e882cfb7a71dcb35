/**
 * Jest global setup (runs once, in jest's own process, before any test file): make sure both
 * Temporal binaries exist (installing the project-local copies if needed), then start ONE dev
 * server for the whole run. Test files find it through `TEMPORAL_TEST_ADDRESS`; environment
 * variables set here are inherited by the test workers, which start afterwards.
 *
 * Set `TEMPORAL_TEST_ADDRESS` yourself to run the suites against a server you already have.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../../client/stack/dev-server';
import { resolveTemporalCli, resolveTestServer } from '../../client/stack/temporal-binaries';

/** Global setup and teardown run in the same process: the handle travels on `globalThis`. */
export const GLOBAL_DEV_SERVER = Symbol.for('sora-series.jest.devServer');

export interface GlobalTestStack {
  server: DevServer;
  /** Temp folder holding the SQLite file and the server log; removed at teardown. */
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

  if (process.env.TEMPORAL_TEST_ADDRESS) return;

  const dataDir = await mkdtemp(join(tmpdir(), 'sora-series-jest-temporal-'));
  const server = await startDevServer({
    executable: cli,
    ui: false,
    dbFile: join(dataDir, 'temporal.sqlite'),
    namespace: process.env.TEMPORAL_TEST_NAMESPACE,
  });
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  const stack: GlobalTestStack = { server, dataDir };
  (globalThis as Record<symbol, unknown>)[GLOBAL_DEV_SERVER] = stack;
}
