/**
 * Chaos: the Temporal server itself goes away mid-series (SIGTERM, a few seconds of outage) and
 * comes back on the same SQLite file and port. The in-process worker and the client keep their
 * connections (the SDK reconnects on its own); the series must finish every scene, and the
 * upstream must have billed exactly one job per take.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { startSeries } from '../../client/series/series-client';
import { SIMULATOR_KEYS } from '../../client/stack/dev-stack';
import { freePort } from '../../common/process';
import { startDevServer, type DevServer, type DevServerOptions } from '../../client/stack/dev-server';
import { startSimulator, type RunningSimulator } from '../../simulator/server';
import { activityDepsFromEnv } from '../../workers/activity-deps';
import { createSeriesWorker } from '../../workers/series-worker';
import { seriesStatusQuery } from '../../workflows/messages';
import { workflowBundle } from '../helpers/harness';
import { recordMeasurement } from '../helpers/measurements';
import { seriesInput } from '../helpers/specs';
import { seriesOutcome, sha256Of, sleep, waitFor, withTimeout } from './chaos-kit';
import { expectPaidOncePerTake } from '../helpers/payments';
import { relayAndOfficial } from '../helpers/sora-pair';

const SCENES = 6;
/** How long the server stays down (ms); CHAOS_OUTAGE_MS tries longer outages, e.g. past the 10 s heartbeat timeout. */
const OUTAGE_MS = Number(process.env.CHAOS_OUTAGE_MS ?? 5_000);

describe('chaos: the Temporal server restarts mid-series', () => {
  let dir: string;
  let serverOptions: DevServerOptions;
  const servers: DevServer[] = [];
  let sim: RunningSimulator;
  let nativeConnection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let workerError: Error | undefined;
  let connection: Connection | undefined;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sora-chaos-restart-'));
    // A fixed port, so the restarted server is where worker and client already point.
    serverOptions = { ui: false, dbFile: join(dir, 'temporal.sqlite'), port: await freePort() };
    servers.push(await startDevServer(serverOptions));
    const address = servers[0].address;

    sim = await startSimulator({
      port: 0,
      seed: 23,
      jobSeconds: 3,
      jitter: 0.5,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    const env = {
      ...SIMULATOR_KEYS,
      SORA_SERIES_DATA_DIR: join(dir, 'data'),
      SORA_SERIES_POLL_MS: '200',
      SORA_SERIES_ALLOW_PRIVATE_URLS: '1',
    };
    const deps = activityDepsFromEnv(logger, env, relayAndOfficial(sim));
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createSeriesWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue: `chaos-restart-${process.pid}-${Date.now()}`,
      deps,
      workflowBundle: await workflowBundle(),
    });
    workerRun = worker.run().catch((err: Error) => {
      workerError = err;
    });
    connection = await Connection.connect({ address });
  });

  afterAll(async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    // A worker that cannot reach a server may take long to stop: never let that hold jest.
    if (workerRun) await withTimeout(workerRun, 30_000).catch(() => undefined);
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    for (const server of servers) await server.stop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test(
    `a ${SCENES}-scene series finishes after the server is stopped and started again on the same database`,
    async () => {
      const client = new Client({ connection: connection! });
      const input = seriesInput(sim.url, {}, SCENES);
      const handle = await startSeries(client, input, { taskQueue: worker!.options.taskQueue });

      // Stop once a scene is done and others are in flight.
      const atStop = await waitFor(
        'a finished scene with others running',
        async () => {
          const view = await handle.query(seriesStatusQuery);
          return view.scenesDone >= 1 && view.running.length >= 1 ? view : undefined;
        },
        180_000,
        200,
      );
      await servers[0].stop();
      const stoppedAt = Date.now();
      await sleep(OUTAGE_MS);
      servers.push(await startDevServer(serverOptions));
      const restartedAt = Date.now();

      const result = await seriesOutcome(handle, 6 * 60_000);
      const recoverySeconds = (Date.now() - restartedAt) / 1000;

      expect(workerError).toBeUndefined(); // the worker rode out the outage without a restart
      expect(worker!.getState()).toBe('RUNNING');
      expect(result.status).toBe('completed');
      expect(result.scenes).toHaveLength(SCENES);
      for (const scene of result.scenes) {
        expect(scene).toMatchObject({ status: 'completed', continuity: 'kept' });
        expect(await sha256Of(scene.assetPath!)).toBe(scene.sha256);
      }
      const audit = expectPaidOncePerTake(sim.ledger(), result, handle.workflowId);

      const takes = result.scenes.reduce((sum, s) => sum + s.takes.length, 0);
      recordMeasurement('faults_injected', 1, 'server restart');
      recordMeasurement('scenes_lost', SCENES - result.scenes.filter((s) => s.status === 'completed').length, 'scenes');
      recordMeasurement('duplicate_payments', audit.duplicatePayments, 'billed jobs');
      recordMeasurement('server_restart.outage', Math.round((restartedAt - stoppedAt) / 100) / 10, 's (stop to ready)');
      recordMeasurement('server_restart.finish_after_restart', Math.round(recoverySeconds), 's');
      recordMeasurement('server_restart.takes', takes, `takes for ${SCENES} scenes`);
      console.log(
        `server restart: stopped with ${atStop.scenesDone} done and [${atStop.running.join(', ')}] running; ` +
          `outage ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s; series finished ${recoverySeconds.toFixed(0)} s after the restart; ` +
          `${takes} takes, ${audit.billed.length} billed`,
      );
    },
    10 * 60_000,
  );
});
