/**
 * The production topology without containers: the real Temporal server (go.temporal.io/server,
 * built from source by tools/real-server/temporal-server-build.ts and cached in .tools/) on a private
 * PostgreSQL cluster from Debian's packages, schemas set up by temporal-sql-tool, the namespace
 * and the project's search attributes registered through the API, then two worker processes
 * (dist/workers/main.js) and a series, grown by an update, with the server restarted in the middle of it.
 *
 * Opt-in (SORA_SERIES_REAL_SERVER=1): the first build of the server downloads ~1.6 GB of Go
 * modules and compiles for minutes (478 s measured on the 2-core build machine under load; 6 s
 * again once Go's module and build caches are warm), too much for `npm test` on a clean clone
 * of a new machine. Once built, the test itself takes about 20 s.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startSeries } from '../../client/series/series-client';
import { addScenes } from '../../client/series/steering';
import { SIMULATOR_KEYS } from '../../client/stack/dev-stack';
import { startTemporalOnPostgres, type TemporalOnPostgres } from '../../tools/real-server/temporal-postgres';
import { ensureTemporalServer, TEMPORAL_SERVER_VERSION } from '../../tools/real-server/temporal-server-build';
import { startSimulator, type RunningSimulator } from '../../simulator/server';
import { allSearchAttributes } from '../../workflows/search-attributes';
import { seriesOutcome, sha256Of, sleep, waitFor } from '../chaos/chaos-kit';
import { expectPaidOncePerTake } from '../helpers/payments';
import { seriesInput } from '../helpers/specs';
import { activityRuns, sceneIds, scenesPerWorker, WorkerGroup } from './topology-kit';
import { relayAndOfficialFile } from '../helpers/sora-pair';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';

const ENABLED = process.env.SORA_SERIES_REAL_SERVER === '1';
const SCENES = 6;
/** One more added by an update after the start (updates need the server's support, on by default since 1.25). */
const TOTAL = SCENES + 1;

if (!ENABLED) {
  console.log(
    `test/topology/postgres-server.test.ts skipped: set SORA_SERIES_REAL_SERVER=1 to build the real Temporal server ${TEMPORAL_SERVER_VERSION} ` +
      `from source (Go; minutes the first time, cached in .tools/temporal-server/) and run a series on it with PostgreSQL (apt-get install -y postgresql).`,
  );
}

(ENABLED ? describe : describe.skip)(
  `real Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL, project workers, a series`,
  () => {
    let server: TemporalOnPostgres;
    let sim: RunningSimulator;
    let dir: string;
    let connection: Connection;
    let client: Client;
    let group: WorkerGroup;
    let buildNote = '';
    let setup: TemporalOnPostgres['timings'];

    beforeAll(async () => {
      const began = Date.now();
      const binaries = await ensureTemporalServer({ log: (line) => console.log(line) });
      const size = `${Math.round(binaries.info.bytes.server / 1e6)} MB + sql tool ${Math.round(binaries.info.bytes.sqlTool / 1e6)} MB`;
      buildNote = `${binaries.built ? `built now in ${Math.round((Date.now() - began) / 1000)} s` : `cached, built in ${binaries.info.seconds} s`} with ${binaries.info.go}, ${size}`;
      server = await startTemporalOnPostgres({ binaries });
      setup = { ...server.timings };
      sim = await startSimulator({
        port: 0,
        seed: 5,
        jobSeconds: 1,
        keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
      });
      dir = await mkdtemp(join(tmpdir(), 'sora-real-server-'));
      group = new WorkerGroup({
        ...SIMULATOR_KEYS,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: server.namespace,
        SORA_SERIES_TASK_QUEUE: `real-server-${process.pid}`,
        SORA_SIMULATOR_URL: sim.url,
        [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(sim.url, dir),
        SORA_SERIES_DATA_DIR: join(dir, 'data'),
        SORA_SERIES_POLL_MS: '200',
        SORA_SERIES_ALLOW_PRIVATE_URLS: '1',
        SORA_SERIES_METRICS_ADDRESS: 'off',
      });
      connection = await Connection.connect({ address: server.address });
      client = new Client({ connection, namespace: server.namespace });
    }, 60 * 60_000);

    afterAll(async () => {
      await group?.killAll();
      await connection?.close();
      await sim?.close();
      await server?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('the namespace serves the project search attributes from PostgreSQL visibility', async () => {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: server.namespace,
      });
      for (const key of allSearchAttributes) expect(Object.keys(customAttributes ?? {})).toContain(key.name);
      // The server really keeps them in PostgreSQL: the namespace row and the visibility schema are there.
      expect(
        await server.postgres.query('temporal', `SELECT name FROM namespaces WHERE name = '${server.namespace}'`),
      ).toBe(server.namespace);
      expect(
        Number(
          await server.postgres.query(
            'temporal_visibility',
            `SELECT count(*) FROM information_schema.tables WHERE table_name = 'executions_visibility'`,
          ),
        ),
      ).toBe(1);
    });

    test(
      'two worker processes run a series to the end across a server restart; history and visibility are in PostgreSQL',
      async () => {
        const workers = await group.start(2);
        const input = seriesInput(sim.url, {}, SCENES);
        const began = Date.now();
        const handle = await startSeries(client, input, { taskQueue: `real-server-${process.pid}` });
        await addScenes(client, handle.workflowId, [{ prompt: '@character waves from the end of the pier' }]);

        // Mid-series, the server goes away and comes back on the same databases.
        await waitFor(
          'two scenes to be submitted',
          () =>
            sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`${handle.workflowId}/`)).length >= 2
              ? true
              : undefined,
          120_000,
          100,
        );
        const down = Date.now();
        await server.stopServer();
        await sleep(2_000);
        await server.startServer();
        const outage = (Date.now() - down) / 1000;

        const result = await seriesOutcome(handle, 5 * 60_000);
        const seconds = (Date.now() - began) / 1000;
        for (const w of workers) group.expectAlive(w);
        expect(result.status).toBe('completed');
        expect(result.scenes).toHaveLength(TOTAL);
        for (const scene of result.scenes) {
          expect(scene.status).toBe('completed');
          expect(existsSync(scene.assetPath!)).toBe(true);
          expect(await sha256Of(scene.assetPath!)).toBe(scene.sha256);
        }
        expectPaidOncePerTake(sim.ledger(), result, handle.workflowId);

        // Visibility on PostgreSQL answers the queries the CLI and the Web UI make.
        const found = await waitFor(
          'the series to be listed as completed',
          async () => {
            const ids: string[] = [];
            for await (const wf of client.workflow.list({
              query: `SeriesName = "${input.name}" AND SeriesStatus = "completed" AND ScenesDone = ${TOTAL}`,
            }))
              ids.push(wf.workflowId);
            return ids.length > 0 ? ids : undefined;
          },
          30_000,
          500,
        );
        expect(found).toEqual([handle.workflowId]);
        const scenesListed = await client.workflow.count(`SeriesId = "${handle.workflowId}"`);
        expect(scenesListed.count).toBe(TOTAL);

        // And the rows are where they should be: one current execution per workflow, visibility rows with the attributes.
        // The series, its scenes and the episode it cut as it ended.
        const like = `'${handle.workflowId}%'`;
        expect(
          Number(
            await server.postgres.query(
              'temporal',
              `SELECT count(*) FROM current_executions WHERE workflow_id LIKE ${like}`,
            ),
          ),
        ).toBe(2 + TOTAL);
        expect(
          Number(
            await server.postgres.query(
              'temporal_visibility',
              `SELECT count(*) FROM executions_visibility WHERE workflow_id LIKE ${like} AND status = 2`,
            ),
          ),
        ).toBe(2 + TOTAL);

        const per = scenesPerWorker(await activityRuns(client, sceneIds(handle.workflowId, TOTAL)), workers);
        console.log(
          `real server ${server.binaries.version} (${buildNote}) on PostgreSQL ${server.postgres.binDir}: ` +
            `setup postgres ${setup.postgres} s, schemas ${setup.schema} s, server start ${setup.server} s, namespace + search attributes ${setup.namespace} s; ` +
            `series of ${TOTAL} scenes (one added by an update) in ${seconds.toFixed(0)} s with a ${outage.toFixed(1)} s server outage; scenes per worker [${[...per.values()].map((s) => s.size).join(', ')}]`,
        );
      },
      10 * 60_000,
    );
  },
);
