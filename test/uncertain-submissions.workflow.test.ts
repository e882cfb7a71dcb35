import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { SeriesActivities } from '../activities';
import { raiseBudget } from '../client/series/steering';
import { seriesStatusQuery, type SeriesStatusView } from '../workflows/messages';
import type { ProviderProfile, SeriesInput, SeriesResult } from '../workflows/types';
import { temporalAddress, workflowBundle } from './helpers/harness';

/**
 * The workflows' own bookkeeping of money with mocked activities (the twins cannot make these
 * cases on demand): a take adopted by a heuristic match counts its price as possibly paid, a
 * finished scene's uncertain price holds against the budget for the scenes after it, and a take
 * costs what the provider billed for it when the provider says.
 */
const ESTIMATE_USD = 1.512;

const profiles: ProviderProfile[] = [
  {
    name: 'seedance',
    contract: 'seedance',
    seconds: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    sizes: ['720x1280'],
    maxConcurrency: 3,
    refusesHumanLikeness: false,
    pricing: { per: 'second', usdBySize: { '720x1280': 0.1512 }, defaultUsd: 0.1512 },
  },
];

/** Scene 1's take is adopted by parameters only; every job bills `billedUsd` (undefined: the provider does not say). */
function mockActivities(billedUsd: number | undefined): Partial<SeriesActivities> {
  let jobs = 0;
  return {
    async listProviderProfiles() {
      return profiles;
    },
    async storeSourceClip({ url }) {
      return { url, sha256: 'a'.repeat(64), path: '/clips/a.mp4' };
    },
    async createCharacterRef() {
      return { ref: { id: 'refs_mira', mention: 'Mira', hold: 'referenced' as const } };
    },
    async submitTake(take) {
      const heuristic = take.idempotencyKey.includes('scene-1');
      return {
        jobId: `cgt-${++jobs}`,
        costUsd: ESTIMATE_USD,
        seconds: take.seconds,
        ...(heuristic
          ? { uncertain: { code: 'heuristic_match' as const, message: 'matched by model, duration, ratio only' } }
          : {}),
      };
    },
    async collectJob({ jobId }) {
      return {
        asset: { path: `/assets/${jobId}.mp4`, sha256: jobId.padEnd(64, '0'), bytes: 1 },
        ...(billedUsd !== undefined ? { billedUsd } : {}),
      };
    },
    async storeAsset({ jobId }) {
      return { path: `/assets/${jobId}.mp4`, sha256: jobId.padEnd(64, '0'), bytes: 1 };
    },
    async writeManifest() {
      return '/manifests/x.json';
    },
    async cutEpisode({ scenes }) {
      const stored = (file: string) => ({ path: `/episodes/${file}`, sha256: file.padEnd(64, '0') });
      return {
        episode: {
          ...stored('episode.mp4'),
          bytes: 1,
          seconds: scenes.length * 10,
          width: 720,
          height: 1280,
          joined: 'concat' as const,
          scenes: scenes.map(({ assetPath: _path, ...s }, i) => ({ ...s, startSeconds: i * 10, seconds: 10 })),
        },
        contactSheet: { ...stored('sheet.png'), width: 1, height: 1 },
        posters: [],
      };
    },
    async recordEpisode() {
      return false;
    },
  };
}

async function runSeries(
  billedUsd: number | undefined,
  budgetUsd: number,
  steer: (client: Client, id: string) => Promise<void> = async () => undefined,
): Promise<{ result: SeriesResult; status: SeriesStatusView }> {
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = `uncertain-${Date.now()}-${Math.random()}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: mockActivities(billedUsd),
    shutdownForceTime: '5s',
  });
  const clientConnection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection: clientConnection });
  const name = `uncertain-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const input: SeriesInput = {
    name,
    character: { name: 'Mira', description: 'a courier', source: { kind: 'clip', url: 'http://example.test/c.mp4' } },
    providers: ['seedance'],
    routing: 'character',
    maxParallel: 1,
    budgetUsd,
    scenes: [1, 2].map((index) => ({ index, prompt: '@character runs', seconds: 10, size: '720x1280' })),
  };
  try {
    return await worker.runUntil(async () => {
      const handle = await client.workflow.start('seriesWorkflow', {
        taskQueue,
        workflowId: `series/${name}`,
        args: [input],
      });
      await steer(client, handle.workflowId);
      const result = (await handle.result()) as SeriesResult;
      return { result, status: await handle.query(seriesStatusQuery) };
    });
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}

describe('uncertain submissions and billed costs (workflow logic, mocked activities)', () => {
  test('a take adopted by a heuristic match counts its price as possibly paid; takes cost what was billed', async () => {
    const { result, status } = await runSeries(1.4, 100);
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => s.takes.map((t) => [t.costUsd, t.uncertain?.code ?? null]))).toEqual([
      [[1.4, 'heuristic_match']],
      [[1.4, null]],
    ]);
    expect(result.scenes[0].takes[0].uncertain).toMatchObject({ usd: ESTIMATE_USD });
    expect(result.costUsd).toBeCloseTo(2.8, 6);
    expect(status.uncertainSubmissions).toEqual({ count: 1, usd: ESTIMATE_USD });
    expect(status.budget).toMatchObject({ spentUsd: 2.8, uncertainUsd: ESTIMATE_USD, remainingUsd: 95.688 });
  });

  test('without a billed amount the estimate stands', async () => {
    const { result } = await runSeries(undefined, 100);
    expect(result.scenes.map((s) => s.takes[0].costUsd)).toEqual([ESTIMATE_USD, ESTIMATE_USD]);
  });

  test("a finished scene's uncertain price holds against the budget: the next scene waits for more", async () => {
    // spent 1.40 + uncertain 1.512 + the next scene's 1.512 = 4.424; without the uncertain one 2.912 would fit
    const seen: SeriesStatusView[] = [];
    const { result } = await runSeries(1.4, 4, async (client, id) => {
      const handle = client.workflow.getHandle(id);
      for (;;) {
        const view = await handle.query(seriesStatusQuery).catch(() => undefined);
        if (view && (view.paused?.by === 'budget' || view.scenesDone === 2)) {
          seen.push(view);
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      if (seen[0].paused) await raiseBudget(client, id, 10);
    });
    expect(seen[0]).toMatchObject({ scenesDone: 1, paused: { by: 'budget' } });
    expect(seen[0].paused!.reason).toContain('scene 2 needs $1.51 but $1.09 of $4.00 remains');
    expect(result.status).toBe('completed');
  });
});
