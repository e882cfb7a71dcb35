/**
 * Records the histories the replay test checks new workflow code against. Run after a
 * deliberate, patched() workflow change: `npm run record-histories` (then commit the files).
 * Files already recorded are kept (they stand for running series of older code versions);
 * RERECORD=1 writes them anew.
 */
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  addScenes,
  cancelSeries,
  pauseSeries,
  raiseBudget,
  resumeSeries,
  retryScene,
  reviewTake,
  setRouting,
} from '../client/series/steering';
import { cutEpisode } from '../client/series/episode';
import { startSeries } from '../client/series/series-client';
import { episodeRequestOf, episodeWorkflowIdOf } from '../workflows/episode-request';
import { characterWorkflowId, sceneWorkflowId } from '../workflows/ids';
import { profilesOf } from '../activities/providers/registry';
import { defineCharacter } from '../client/series/characters';
import { parseSpec } from '../client/spec/parse-spec';
import { toSeriesInput } from '../client/spec/series-input';
import { seriesStatusQuery, type SeriesStatusView } from '../workflows/messages';
import type { seriesWorkflow } from '../workflows/series/workflow';
import type { SeriesInput } from '../workflows/types';
import { startHarness, temporalAddress, type Harness } from '../test/helpers/harness';
import { seriesInput } from '../test/helpers/specs';
import { relayAndOfficial } from '../test/helpers/sora-pair';
import { DEMO_TASK_ID } from '../simulator/state';
import { seedanceThenOfficial } from '../test/helpers/seedance';
import pino from 'pino';
import { ensureProviderSlots } from '../workers/provider-slots';
import { providerSlotsWorkflowId } from '../workflows/ids';
import { slotsQuery } from '../workflows/provider-slots';

const DIR = join(__dirname, '..', 'test', 'fixtures', 'histories');

describe('record workflow histories', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      // the recorded histories are the relay+official pair's; seedance beside it (no idempotency keys) for the uncertain one
      providers: (sim, tuning) => ({
        providers: [
          ...relayAndOfficial(sim, tuning).providers,
          ...seedanceThenOfficial(sim.url, tuning).providers.filter((p) => p.contract === 'seedance'),
        ],
      }),
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const recorded = (label: string) =>
    access(join(DIR, `${label}.series.json`)).then(
      () => !process.env.RERECORD,
      () => false,
    );

  // The CLI writes the same JSON the Web UI downloads, which historyFromJSON reads back.
  async function save(id: string, file: string) {
    const { stdout } = await promisify(execFile)(process.env.TEMPORAL_CLI_PATH!, [
      'workflow',
      'show',
      '--workflow-id',
      id,
      '--address',
      temporalAddress(),
      '--output',
      'json',
    ]);
    await writeFile(join(DIR, file), JSON.stringify({ workflowId: id, history: JSON.parse(stdout) }) + '\n');
  }

  async function record(
    label: string,
    prepare: () => void,
    scenes: number,
    reject?: number,
    overrides: Parameters<typeof seriesInput>[1] = {},
  ) {
    if (await recorded(label)) return;
    prepare();
    const input = seriesInput(h.sim.url, overrides, scenes);
    if (reject) input.scenes[reject - 1].prompt = '@character does something FORBIDDEN';
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    await handle.result();
    await save(handle.workflowId, `${label}.series.json`);
    await save(sceneWorkflowId(handle.workflowId, 1), `${label}.scene.json`);
  }

  /** A series driven by messages while it runs; `scene` names the scene history to keep. Its id, if recorded now. */
  async function recordSteered(
    label: string,
    input: SeriesInput,
    steer: (id: string, until: (check: (v: SeriesStatusView) => boolean) => Promise<void>) => Promise<void>,
    scene: number,
  ): Promise<string | undefined> {
    if (await recorded(label)) return undefined;
    h.sim.setScenario({});
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    const until = async (check: (v: SeriesStatusView) => boolean) => {
      for (let i = 0; i < 600; i++) {
        const view = await handle.query(seriesStatusQuery).catch(() => undefined);
        if (view && check(view)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${label}: the series never reached the awaited state`);
    };
    await steer(handle.workflowId, until);
    await handle.result().catch(() => undefined);
    await save(handle.workflowId, `${label}.series.json`);
    await save(sceneWorkflowId(handle.workflowId, scene), `${label}.scene.json`);
    return handle.workflowId;
  }

  /** Sends both while no worker polls, so the series gets them in one workflow task. */
  async function inOneTask(first: () => Promise<unknown>, second: () => Promise<unknown>) {
    await h.stopWorker();
    const both = Promise.allSettled([first(), second()]);
    await new Promise((r) => setTimeout(r, 1000));
    await h.startWorker();
    await both;
  }

  test('happy path, relay down (fallback with character signals), rejected scene', async () => {
    await record('happy', () => h.sim.setScenario({}), 3);
    await record(
      'relay-down',
      () => h.sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403, afterCalls: 2 } } } }),
      4,
    );
    await record('rejected', () => h.sim.setScenario({ rejectWord: 'FORBIDDEN' }), 2, 1);
  });

  test('a character extracted from an earlier relay task', async () => {
    await record('extracted', () => h.sim.setScenario({}), 1, undefined, {
      character: {
        name: 'Hero',
        description: 'a figure in a grey coat',
        extract: { provider: 'relay', task: DEMO_TASK_ID },
      },
    });
  });

  test('the episode: cut as the series ends (a child), and reused when cut on demand before the end', async () => {
    const id = await recordSteered('episode', seriesInput(h.sim.url, {}, 2), async () => undefined, 1);
    if (id) {
      // The episode workflow's own history, beside the series that started it.
      const { scenes } = await h.client.workflow.getHandle<typeof seriesWorkflow>(id).result();
      await save(episodeWorkflowIdOf(episodeRequestOf(id, scenes)), 'episode.episode.json');
    }
    await recordSteered(
      'episode-reused',
      seriesInput(h.sim.url, { approval: 'required' }, 1),
      async (id, until) => {
        await until((v) => v.status === 'awaiting_approval');
        await cutEpisode(h.client, id); // the series' own end cut then finds its id taken
        await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'approve' });
      },
      1,
    );
  });

  test('steering: pause, add scenes, routing, budget pause and raise, review and retake, messages at once, cancel', async () => {
    await recordSteered(
      'steered',
      seriesInput(h.sim.url, { maxParallel: 1, budgetUsd: 0.3 }, 2),
      async (id, until) => {
        await pauseSeries(h.client, id, 'look first');
        await until((v) => v.status === 'paused');
        await resumeSeries(h.client, id);
        await addScenes(h.client, id, [{ prompt: '@character waves' }]);
        await setRouting(h.client, id, 'cost');
        await until((v) => v.paused?.by === 'budget');
        await raiseBudget(h.client, id, 1);
      },
      3,
    );
    await recordSteered(
      'retake',
      seriesInput(h.sim.url, { approval: 'required' }, 2),
      async (id, until) => {
        await until((v) => v.status === 'awaiting_approval');
        await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'approve' });
        await reviewTake(h.client, id, { index: 2, take: 1, verdict: 'reject' });
        await retryScene(h.client, id, { index: 2, provider: 'official', prompt: '@character again' });
        await until((v) => v.awaitingReview.length === 1 && v.scenes.find((s) => s.index === 2)!.takes.length === 2);
        await reviewTake(h.client, id, { index: 2, take: 2, verdict: 'approve' });
      },
      2,
    );
    await recordSteered(
      'concurrent',
      seriesInput(h.sim.url, { approval: 'required' }, 1),
      async (id, until) => {
        await until((v) => v.status === 'awaiting_approval');
        h.sim.setScenario({ jobSeconds: 3 });
        await inOneTask(
          () => retryScene(h.client, id, { index: 1 }),
          () => retryScene(h.client, id, { index: 1 }),
        );
        await until((v) => v.running.includes(1));
        await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'reject' });
        await until((v) => !v.running.length && v.scenes[0].takes.length === 2);
        await reviewTake(h.client, id, { index: 1, take: 2, verdict: 'approve' });
      },
      1,
    );
    await recordSteered(
      'paused-take-budget',
      seriesInput(h.sim.url, { budgetUsd: 0.3, defaults: { seconds: 4 } }, 1),
      async (id, until) => {
        h.sim.setScenario({
          contracts: {
            'relay-v1': { endpoints: { generate: { latencyMs: { min: 2000, max: 2000 }, down: { status: 403 } } } },
          },
        });
        await until((v) => v.running.includes(1));
        await pauseSeries(h.client, id, 'look first');
        await new Promise((r) => setTimeout(r, 3000)); // the fallback take asks for its budget meanwhile
        await resumeSeries(h.client, id);
        await until((v) => v.paused?.by === 'budget');
        await raiseBudget(h.client, id, 1);
      },
      1,
    );
    await recordSteered(
      'cancelled',
      seriesInput(h.sim.url, { maxParallel: 1 }, 3),
      async (id, until) => {
        await until((v) => v.running.length === 1);
        await cancelSeries(h.client, id, 'stop');
      },
      1,
    );
  });

  test('an uncertain submission: seedance loses an accepted create it cannot list, the budget pauses the fallback', async () => {
    await recordSteered(
      'uncertain',
      seriesInput(h.sim.url, { providers: ['seedance', 'official'], budgetUsd: 2.5 }, 1),
      async (id, until) => {
        h.sim.setScenario({
          contracts: {
            seedance: {
              endpoints: { create: { reset: { burst: 1, afterHandling: true } }, list: { down: { status: 404 } } },
            },
          },
        });
        await until((v) => v.paused?.by === 'budget');
        await raiseBudget(h.client, id, 3);
      },
      1,
    );
  });
  test('slots as leases: a small series behind a large one on one relay limit (grants, a reclaim); scenes wait by collectJob', async () => {
    if (await recorded('leases')) return;
    h.sim.setScenario({});
    await ensureProviderSlots(h.client, h.taskQueue, profilesOf(relayAndOfficial(h.sim)), pino({ level: 'silent' }));
    const limiterId = providerSlotsWorkflowId(h.taskQueue, 'relay');
    const limiter = h.client.workflow.getHandle(limiterId);
    const start = (scenes: number) =>
      startSeries(h.client, seriesInput(h.sim.url, { providers: ['relay'], maxParallel: 3 }, scenes), {
        taskQueue: h.taskQueue,
      });
    const large = await start(6);
    for (let view = await limiter.query(slotsQuery); view.held.length < 3; view = await limiter.query(slotsQuery))
      await new Promise((r) => setTimeout(r, 50));
    const small = await start(2);
    await Promise.all([large.result(), small.result()]);
    await save(large.workflowId, 'leases.series.json');
    await save(sceneWorkflowId(small.workflowId, 1), 'leases.scene.json');
    await save(limiterId, 'leases.slots.json');
  });

  test('a cast from the library: two characters, the relay down (handles asked of the character workflows)', async () => {
    if (await recorded('cast')) return;
    const stamp = Date.now();
    const [tom, mira] = [`rec-tom-${stamp}`, `rec-mira-${stamp}`];
    const definition = (name: string) => ({
      name,
      description: `${name}, a courier in a yellow raincoat`,
      clip: `${h.sim.url}/clips/mira.mp4`,
    });
    await defineCharacter(h.client, definition(tom), { taskQueue: h.taskQueue });
    h.sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403 } } } });
    const input = toSeriesInput(
      parseSpec(
        {
          name: `rec-cast-${stamp}`,
          characters: [tom, definition(mira)],
          providers: ['relay', 'official'],
          scenes: [{ prompt: `@${mira} hands @${tom} the letter`, seconds: 8 }],
        },
        undefined,
        { profiles: profilesOf(relayAndOfficial(h.sim)) },
      ),
    );
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    await handle.result();
    h.sim.setScenario({});
    await save(handle.workflowId, 'cast.series.json');
    await save(sceneWorkflowId(handle.workflowId, 1), 'cast.scene.json');
    await save(characterWorkflowId(mira), 'cast.character.json');
  });
});
