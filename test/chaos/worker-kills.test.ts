/**
 * Chaos: the worker process is SIGKILLed again and again while a 10-scene series runs its scenes,
 * and a fresh one started each time. The series must still finish every scene, with intact assets,
 * and the upstream must have billed exactly one job per take (idempotency keys survive retries).
 *
 * Kills come 1.5-5 s apart (seeded: SEED, or CHAOS_SEED to explore other timings), counted from
 * each worker's spawn, so the kills always fit inside the series however slow the machine starts
 * workers; a kill may land during startup, a workflow task, a submit, a wait or a download.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startSeries } from '../../client/series/series-client';
import { SIMULATOR_KEYS } from '../../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../../simulator/server';
import { temporalAddress } from '../helpers/harness';
import { recordMeasurement } from '../helpers/measurements';
import { exited, spawnWorker } from '../helpers/processes';
import { seriesInput } from '../helpers/specs';
import { isClosed, seededRandom, seriesOutcome, sha256Of, sleep, waitFor, withTimeout } from './chaos-kit';
import { expectPaidOncePerTake } from '../helpers/payments';
import { relayAndOfficialFile } from '../helpers/sora-pair';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';

const SCENES = 10;
const KILLS = 10;
const SEED = Number(process.env.CHAOS_SEED ?? 20261125);
/** Startup of a worker process includes bundling the workflow code: slow on a loaded machine. */
const WORKER_READY_MS = 120_000;
/** After the last kill: heartbeat timeouts (10 s), retries, and activities without heartbeats (up to 2 min). */
const FINISH_MS = 6 * 60_000;
/** temporal.api.enums.v1.PendingActivityState (the proto package is not a direct dependency). */
const PENDING_ACTIVITY_STATE_STARTED = 2;

type WorkerProcess = ReturnType<typeof spawnWorker>;

const isReady = (child: WorkerProcess) => child.output().includes('"msg":"worker started"');
const hasExited = (child: WorkerProcess) => child.exitCode !== null || child.signalCode !== null;

describe('chaos: worker processes killed during a series', () => {
  let sim: RunningSimulator;
  let dir: string;
  let connection: Connection;
  let client: Client;
  let env: NodeJS.ProcessEnv;
  const children = new Set<WorkerProcess>();

  beforeAll(async () => {
    // Jobs of ~3 s with a wide spread, so scenes overlap and finish at different moments.
    sim = await startSimulator({
      port: 0,
      seed: 17,
      jobSeconds: 3,
      jitter: 0.5,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    dir = await mkdtemp(join(tmpdir(), 'sora-chaos-kills-'));
    env = {
      ...SIMULATOR_KEYS,
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_TASK_QUEUE: `chaos-kills-${process.pid}-${Date.now()}`,
      SORA_SIMULATOR_URL: sim.url,
      [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(sim.url, dir),
      SORA_SERIES_DATA_DIR: join(dir, 'data'),
      SORA_SERIES_POLL_MS: '200',
      SORA_SERIES_ALLOW_PRIVATE_URLS: '1',
    };
    connection = await Connection.connect({ address: temporalAddress() });
    client = new Client({ connection });
  });

  afterAll(async () => {
    // Every worker we spawned goes, whatever happened above.
    for (const child of children) {
      if (!hasExited(child)) child.kill('SIGKILL');
      await exited(child).catch(() => undefined);
    }
    await connection?.close();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function spawn(): WorkerProcess {
    const child = spawnWorker(env);
    children.add(child);
    return child;
  }

  /** A worker that crashed on its own is a failure of its own, not chaos: stop with its output. */
  function expectAlive(child: WorkerProcess): void {
    if (hasExited(child))
      throw new Error(`worker exited on its own (${child.exitCode ?? child.signalCode}):\n${child.output()}`);
  }

  async function kill(child: WorkerProcess): Promise<void> {
    child.kill('SIGKILL');
    await exited(child);
    children.delete(child);
  }

  test(
    `a ${SCENES}-scene series survives ${KILLS} SIGKILLs of its worker: every scene stored, one billed job per take`,
    async () => {
      const random = seededRandom(SEED);
      // Two scenes at a time: they overlap, and the series outlasts the kills with room to spare.
      const input = seriesInput(sim.url, { maxParallel: 2 }, SCENES);
      const began = Date.now();
      const handle = await startSeries(client, input, { taskQueue: env.SORA_SERIES_TASK_QUEUE! });

      /**
       * What a kill interrupts: the scenes' activities running on that worker process, from the
       * server's view (no live worker needed). `awaitJob@3` is scene 3 waiting for its job.
       */
      const runningOn = async (pid: number): Promise<string[]> => {
        const series = await handle.describe();
        const onKilled = (activities: typeof series.raw.pendingActivities) =>
          (activities ?? []).filter(
            (a) => Number(a.state) === PENDING_ACTIVITY_STATE_STARTED && a.lastWorkerIdentity?.startsWith(`${pid}@`),
          );
        const own = onKilled(series.raw.pendingActivities).map((a) => `${a.activityType?.name}@series`);
        const found = await Promise.all(
          (series.raw.pendingChildren ?? []).map(async (child) => {
            const scene = await client.workflow.getHandle(child.workflowId!).describe();
            return onKilled(scene.raw.pendingActivities).map(
              (a) => `${a.activityType?.name}@${child.workflowId!.replace(/.*scene-/, '')}`,
            );
          }),
        );
        return [...own, ...found.flat()];
      };

      // Chaos starts once scenes are in flight: the passport (source clip, character) comes first.
      const first = spawn();
      await waitFor(
        'the first scene to start generating',
        async () => {
          expectAlive(first);
          const series = await handle.describe();
          return (series.raw.pendingChildren ?? []).length > 0 ? true : undefined;
        },
        WORKER_READY_MS,
        100,
      );

      const interrupted: string[][] = [];
      const gaps: number[] = [];
      let kills = 0;
      let killedBeforeReady = 0;
      while (kills < KILLS) {
        const worker = kills === 0 ? first : spawn();
        const gap = Math.round(1500 + random() * 3500);
        gaps.push(gap);
        await sleep(gap);
        expectAlive(worker);
        // A kill only counts while the series runs; a series that ended early fails the count below.
        if (await isClosed(handle)) {
          await kill(worker);
          break;
        }
        const ready = isReady(worker);
        if (!ready) killedBeforeReady++;
        interrupted.push(
          ready ? await withTimeout(runningOn(worker.pid!), 5_000).catch(() => ['unknown']) : ['startup'],
        );
        await kill(worker);
        kills++;
      }
      const killsDone = Date.now();

      const last = spawn();
      await waitFor(
        'the last worker to start',
        () => (expectAlive(last), isReady(last) ? true : undefined),
        WORKER_READY_MS,
        100,
      );
      const result = await seriesOutcome(handle, FINISH_MS);
      const seconds = (Date.now() - began) / 1000;
      const finishSeconds = (Date.now() - killsDone) / 1000;

      // The count first: a series that finished before KILLS kills did not test what it claims.
      expect(kills).toBe(KILLS);
      expect(result.status).toBe('completed');
      expect(result.scenes).toHaveLength(SCENES);
      for (const scene of result.scenes) {
        expect(scene).toMatchObject({ status: 'completed', continuity: 'kept' });
        expect(existsSync(scene.assetPath!)).toBe(true);
        expect(await sha256Of(scene.assetPath!)).toBe(scene.sha256);
      }
      expect(new Set(result.scenes.map((s) => s.sha256)).size).toBe(SCENES);

      const audit = expectPaidOncePerTake(sim.ledger(), result, handle.workflowId);

      // Kills that caught activities mid-flight; the rest hit startup, workflow tasks or timeouts.
      const hits = interrupted.filter((activities) => activities.some((a) => a.includes('@'))).length;
      const takes = result.scenes.reduce((sum, s) => sum + s.takes.length, 0);
      const completed = result.scenes.filter((s) => s.status === 'completed').length;
      recordMeasurement('faults_injected', kills, 'worker SIGKILLs');
      recordMeasurement('kills_survived', result.status === 'completed' ? kills : 0, 'SIGKILLs');
      recordMeasurement('scenes_lost', SCENES - completed, 'scenes');
      recordMeasurement('duplicate_payments', audit.duplicatePayments, 'billed jobs');
      recordMeasurement('worker_kills.kills_with_activities_in_flight', hits, `of ${kills} kills`);
      recordMeasurement('worker_kills.kills_during_worker_startup', killedBeforeReady, `of ${kills} kills`);
      recordMeasurement('worker_kills.takes', takes, `takes for ${SCENES} scenes`);
      recordMeasurement('worker_kills.series_duration', Math.round(seconds), 's');
      recordMeasurement('worker_kills.finish_after_last_kill', Math.round(finishSeconds), 's');
      console.log(
        `worker kills: ${kills} kills (gaps ${gaps.join(', ')} ms, seed ${SEED}), series ${seconds.toFixed(0)} s, ${takes} takes, ` +
          `${audit.billed.length} billed, ${killedBeforeReady} kills during startup, finished ${finishSeconds.toFixed(0)} s after the last kill\n` +
          `  activities running on each killed worker: ${interrupted.map((p) => `[${p.join(' ')}]`).join(' ')}`,
      );

      // The last worker stops cleanly.
      last.kill('SIGTERM');
      expect(await exited(last, 30_000)).toBe(0);
      children.delete(last);
    },
    15 * 60_000,
  );
});
