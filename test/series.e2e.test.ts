import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sceneTakes } from '../client/series/takes';
import { seriesReport, startSeries } from '../client/series/series-client';
import { sceneWorkflowId } from '../workflows/ids';
import { sceneStatusQuery, seriesStatusQuery } from '../workflows/messages';
import { mergeRetake } from '../workflows/scene-results';
import type { SceneResult, SeriesResult } from '../workflows/types';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { seriesInput } from './helpers/specs';

/** Whole series on a real dev server, a real worker and the simulator over HTTP. */
describe('a character series end to end', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => {
    h.sim.setScenario({});
  });

  async function run(input: ReturnType<typeof seriesInput>): Promise<SeriesResult> {
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    return handle.result();
  }

  async function expectAssetsIntact(result: SeriesResult) {
    for (const scene of result.scenes.filter((s) => s.status === 'completed')) {
      const bytes = await readFile(scene.assetPath!);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(scene.sha256);
      expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    }
    const manifest = JSON.parse(await readFile(result.manifestPath, 'utf8'));
    expect(manifest.scenes).toHaveLength(result.scenes.length);
    expect(manifest.totals.costUsd).toBeCloseTo(result.costUsd, 6);
  }

  const ledgerFor = (prefix: string) => h.sim.ledger().filter((e) => e.idempotencyKey?.includes(prefix));

  test('happy path: every scene on the relay, character kept, one billed job per scene', async () => {
    const input = seriesInput(h.sim.url, {}, 6);
    const result = await run(input);
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.index, s.status, s.provider, s.continuity])).toEqual(
      [1, 2, 3, 4, 5, 6].map((i) => [i, 'completed', 'relay', 'kept']),
    );
    const jobs = ledgerFor(input.name);
    expect(jobs).toHaveLength(6);
    expect(jobs.every((e) => e.contract === 'relay-v1' && e.prompt.includes('@char_'))).toBe(true);
    expect(result.costUsd).toBeCloseTo(6 * 0.12, 6);
    expect(new Set(result.scenes.map((s) => s.sha256)).size).toBe(6);
    await expectAssetsIntact(result);
  });

  test('relay down from the start: the series finishes on official with the character kept', async () => {
    h.sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403 } } } });
    const input = seriesInput(h.sim.url, {}, 4);
    const result = await run(input);
    expect(result.status).toBe('completed');
    for (const scene of result.scenes) {
      expect(scene).toMatchObject({ status: 'completed', provider: 'official', continuity: 'kept' });
    }
    const jobs = ledgerFor(input.name);
    expect(jobs.map((e) => e.contract)).toEqual(['official', 'official', 'official', 'official']);
    // The official contract needs the character by id and its name in the prompt.
    expect(jobs.every((e) => e.characterIds.length === 1 && e.prompt.includes('Mira'))).toBe(true);
    expect(result.character.refs.official?.id).toMatch(/^char_/);
    await expectAssetsIntact(result);
  });

  test('a human-likeness clip the official side refuses: fallback goes degraded, from the description', async () => {
    h.sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403 } } } });
    const input = seriesInput(
      h.sim.url,
      {
        character: { name: 'Ana', description: 'a woman with a green scarf', clip: `${h.sim.url}/clips/human-ana.mp4` },
      },
      2,
    );
    const result = await run(input);
    expect(result.status).toBe('completed');
    for (const scene of result.scenes) expect(scene).toMatchObject({ provider: 'official', continuity: 'degraded' });
    expect(result.character.refused.official).toMatch(/human_likeness/);
    const jobs = ledgerFor(input.name);
    expect(jobs.every((e) => e.characterIds.length === 0 && e.prompt.includes('green scarf'))).toBe(true);
  });

  test('extract-from-task: the character comes from an earlier relay generation', async () => {
    const input = seriesInput(
      h.sim.url,
      {
        character: {
          name: 'Hero',
          description: 'a figure in a grey coat',
          extract: { provider: 'relay', task: 'task_demo_origin' },
        },
      },
      2,
    );
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    // The extraction is a short upstream call; the task's video comes down as a heartbeating transfer.
    const scheduled = ((await handle.fetchHistory()).events ?? []).flatMap((e) => {
      const a = e.activityTaskScheduledEventAttributes;
      return a ? [{ type: a.activityType?.name, heartbeat: Number(a.heartbeatTimeout?.seconds ?? 0) }] : [];
    });
    expect(scheduled.filter((a) => /extract|TaskClip/.test(a.type ?? ''))).toEqual([
      { type: 'extractCharacterRef', heartbeat: 0 },
      { type: 'storeTaskClip', heartbeat: 15 },
    ]);
    expect(result.scenes.every((s) => s.provider === 'relay' && s.continuity === 'kept')).toBe(true);
    const characterId = result.character.refs.relay.id;
    expect(ledgerFor(input.name).every((e) => e.prompt.includes(`@${characterId}`))).toBe(true);
    expect(result.character.sourceClip?.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expectAssetsIntact(result);
  });

  test('official only, with a character', async () => {
    const input = seriesInput(h.sim.url, { providers: ['official'], defaults: { seconds: 8, size: '1280x720' } }, 2);
    const result = await run(input);
    expect(result.status).toBe('completed');
    expect(result.scenes.every((s) => s.provider === 'official' && s.continuity === 'kept')).toBe(true);
    expect(result.costUsd).toBeCloseTo(2 * 8 * 0.1, 6);
    expect(ledgerFor(input.name).every((e) => e.seconds === 8 && e.size === '1280x720')).toBe(true);
  });

  test('a rejected scene is reported with the reason; the other scenes still finish', async () => {
    h.sim.setScenario({ rejectWord: 'FORBIDDEN' });
    const input = seriesInput(h.sim.url, {}, 3);
    input.scenes[1].prompt = '@character does something FORBIDDEN';
    const result = await run(input);
    expect(result.status).toBe('completed_with_rejections');
    expect(result.scenes.map((s) => s.status)).toEqual(['completed', 'rejected', 'completed']);
    expect(result.scenes[1].reason).toMatch(/moderation_blocked/);
    // Rejected during generation: one take, not retried blindly, billed as the upstream bills it.
    expect(result.scenes[1].takes).toHaveLength(1);
    expect(ledgerFor(`${input.name}/scene-2`)).toHaveLength(1);
    await expectAssetsIntact(result);
  });

  test('scenes[].id travels with its scene: status query, report, scene status, takes and manifest', async () => {
    const input = seriesInput(h.sim.url, {
      scenes: [
        { id: 'dawn', prompt: '@character wakes at dawn' },
        { prompt: '@character has lunch' },
        { id: 'dusk', prompt: '@character sleeps at dusk' },
      ],
    });
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    const result = await handle.result();
    const ids = ['dawn', undefined, 'dusk'];
    /** Ids by index (the status query lists scenes in the order they finished). */
    const idsOf = (scenes: Array<{ index: number; id?: string }>) =>
      [...scenes].sort((a, b) => a.index - b.index).map((s) => s.id);
    expect(idsOf(result.scenes)).toEqual(ids);
    expect(result.scenes.find((s) => s.index === 2)).not.toHaveProperty('id');
    expect(idsOf((await handle.query(seriesStatusQuery)).scenes)).toEqual(ids);
    expect(idsOf((await seriesReport(h.client, handle.workflowId)).scenes)).toEqual(ids);
    const scene3 = h.client.workflow.getHandle(sceneWorkflowId(handle.workflowId, 3));
    expect(await scene3.query(sceneStatusQuery)).toMatchObject({ index: 3, id: 'dusk' });
    expect(await sceneTakes(h.client, handle.workflowId, 1)).toMatchObject({ index: 1, sceneId: 'dawn' });
    expect(await sceneTakes(h.client, handle.workflowId, 2)).not.toHaveProperty('sceneId');
    const manifest = JSON.parse(await readFile(result.manifestPath, 'utf8')) as SeriesResult;
    expect(idsOf(manifest.scenes)).toEqual(ids);
  });

  test('starting the same series twice is refused, not duplicated', async () => {
    const input = seriesInput(h.sim.url, {}, 1);
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    await expect(startSeries(h.client, input, { taskQueue: h.taskQueue })).rejects.toThrow(/already exists/);
    await handle.result();
  });
});

describe('a scene id across retakes', () => {
  test('a retake whose child failed before reporting keeps the scene id', () => {
    const done: SceneResult = { index: 1, id: 'dawn', status: 'completed', costUsd: 0.12, takes: [] };
    const failed: SceneResult = { index: 1, status: 'failed', costUsd: 0, takes: [], reason: 'child failed' };
    expect(mergeRetake(done, failed).id).toBe('dawn');
    expect(mergeRetake({ ...done, id: undefined }, failed)).not.toHaveProperty('id');
  });
});
