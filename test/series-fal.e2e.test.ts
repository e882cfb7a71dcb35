/**
 * Whole series on the fal contract: a real dev server, a real worker and the fal twin over HTTP.
 * The character is held by its reference stills on fal storage (continuity `referenced`); faults
 * end as a user wants them to; the ledger shows no take bought twice, lost answers included.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startSeries } from '../client/series/series-client';
import type { LedgerEntry, Scenario } from '../simulator/server';
import type { SeriesResult } from '../workflows/types';
import { falConfig } from './helpers/fal';
import { seriesUnder, startHarness, type Harness } from './helpers/harness';
import { seriesInput } from './helpers/specs';
import { relayAndOfficial } from './helpers/sora-pair';

/** Seedance 2.0 at 720p: $0.3024 a second, 10 s scenes. */
const SCENE_USD = 3.024;

describe('a series on fal end to end', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      providers: (sim, tuning) => ({
        providers: [
          ...relayAndOfficial(sim, tuning).providers,
          ...falConfig(sim, { maxConcurrency: 3, ...tuning }).providers,
        ],
      }),
    });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => h.sim.setScenario({}));

  /** The ledger entries a run adds (fal has no idempotency key to find them by). */
  async function billed(run: () => Promise<SeriesResult>): Promise<{ result: SeriesResult; entries: LedgerEntry[] }> {
    const before = h.sim.ledger().length;
    const result = await run();
    return { result, entries: h.sim.ledger().slice(before) };
  }

  const run = (input: ReturnType<typeof seriesInput>, scenario: Scenario = {}) =>
    billed(async () =>
      Object.keys(scenario).length
        ? seriesUnder(h, scenario, input)
        : (await startSeries(h.client, input, { taskQueue: h.taskQueue })).result(),
    );

  async function expectAssetsIntact(result: SeriesResult) {
    for (const scene of result.scenes.filter((s) => s.status === 'completed')) {
      const bytes = await readFile(scene.assetPath!);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(scene.sha256);
      expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    }
    const manifest = JSON.parse(await readFile(result.manifestPath, 'utf8'));
    expect(manifest.totals.costUsd).toBeCloseTo(result.costUsd, 6);
  }

  test('every scene on fal, the character referenced by its stills, one billed request per scene', async () => {
    const input = seriesInput(h.sim.url, { providers: ['fal'] }, 4);
    const { result, entries } = await run(input);
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.status, s.provider, s.continuity])).toEqual(
      Array(4).fill(['completed', 'fal', 'referenced']),
    );
    expect(result.character.refs.fal).toMatchObject({ hold: 'referenced', references: expect.any(Array) });
    expect(entries).toHaveLength(4);
    expect(entries.every((e) => e.contract === 'fal' && e.prompt.startsWith('Mira (@Image1 @Image2 @Image3)'))).toBe(
      true,
    );
    expect(new Set(entries.map((e) => e.jobId))).toEqual(new Set(result.scenes.map((s) => s.takes[0].jobId)));
    expect(result.costUsd).toBeCloseTo(4 * SCENE_USD, 6);
    expect(entries.reduce((sum, e) => sum + e.billedUsd, 0)).toBeCloseTo(result.costUsd, 6);
    await expectAssetsIntact(result);
  });

  test('the relay lost mid-way: the series finishes on fal, continuity reported per scene', async () => {
    const input = seriesInput(h.sim.url, { providers: ['relay', 'fal'], maxParallel: 1 }, 4);
    // character creation and two scenes (generate + polls) still work; then the relay is gone
    const { result, entries } = await run(input, {
      contracts: { 'relay-v1': { endpoints: { generate: { down: { status: 403, afterCalls: 2 } } } } },
    });
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.provider, s.continuity])).toEqual([
      ['relay', 'kept'],
      ['relay', 'kept'],
      ['fal', 'referenced'],
      ['fal', 'referenced'],
    ]);
    expect(entries.map((e) => e.contract)).toEqual(['relay-v1', 'relay-v1', 'fal', 'fal']);
    await expectAssetsIntact(result);
  });

  test('answers lost after fal took the request: found in its request list, nothing bought twice', async () => {
    const input = seriesInput(h.sim.url, { providers: ['fal'] }, 3);
    const { result, entries } = await run(input, {
      contracts: {
        fal: {
          endpoints: {
            submit: { reset: { afterHandling: true, every: 2 }, errorAfterAccept: { status: 504, burst: 1 } },
          },
        },
      },
    });
    expect(result.status).toBe('completed');
    expect(entries).toHaveLength(3);
    expect(result.scenes.every((s) => s.takes.length === 1)).toBe(true);
    expect(new Set(entries.map((e) => e.jobId))).toEqual(new Set(result.scenes.map((s) => s.takes[0].jobId)));
    expect(result.costUsd).toBeCloseTo(3 * SCENE_USD, 6);
  });

  test('throttled and 5xx submits are retried, still one billed request per scene', async () => {
    const input = seriesInput(h.sim.url, { providers: ['fal'] }, 2);
    const { result, entries } = await run(input, {
      contracts: {
        fal: {
          endpoints: {
            submit: { rateLimit: { retryAfterSeconds: 1, burst: 1 }, serverErrors: { status: 503, every: 3 } },
          },
        },
      },
    });
    expect(result.status).toBe('completed');
    expect(entries).toHaveLength(2);
  });

  test('moderation at output: the scene is rejected and reported, never retried blindly', async () => {
    const input = seriesInput(h.sim.url, { providers: ['fal', 'official'] }, 3);
    input.scenes[1].prompt = '@character FORBIDDEN act';
    const { result, entries } = await run(input, { rejectWord: 'FORBIDDEN' });
    expect(result.status).toBe('completed_with_rejections');
    expect(result.scenes.map((s) => s.status)).toEqual(['completed', 'rejected', 'completed']);
    expect(result.scenes[1].reason).toContain('content_policy_violation');
    expect(entries.filter((e) => e.prompt.includes('FORBIDDEN'))).toHaveLength(1);
  });

  test('a runner failure: a new take on fal, the failed one not billed', async () => {
    const input = seriesInput(h.sim.url, { providers: ['fal'] }, 1);
    const { result, entries } = await run(input, {
      contracts: { fal: { failJobs: { code: 'processing_error', burst: 1 } } },
    });
    expect(result.status).toBe('completed');
    expect(result.scenes[0].takes.map((t) => t.outcome)).toEqual(['failed', 'completed']);
    expect(entries.map((e) => e.billedUsd)).toEqual([0, SCENE_USD]);
    expect(result.costUsd).toBeCloseTo(SCENE_USD, 6);
  });

  test('an exhausted fal balance: the series goes on the official provider, the character kept there', async () => {
    const input = seriesInput(h.sim.url, { providers: ['fal', 'official'] }, 2);
    const { result, entries } = await run(input, { contracts: { fal: { down: { status: 403 } } } });
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.provider, s.continuity])).toEqual([
      ['official', 'kept'],
      ['official', 'kept'],
    ]);
    expect(entries.every((e) => e.contract === 'official')).toBe(true);
  });

  test('reference images gone from fal storage: refused before anything is bought, the scene falls back', async () => {
    const input = seriesInput(h.sim.url, { providers: ['fal', 'official'] }, 1);
    const { result, entries } = await run(input, { contracts: { fal: { revokeAllCharacters: true } } });
    expect(result.status).toBe('completed');
    expect(result.scenes[0]).toMatchObject({ provider: 'official', continuity: 'kept' });
    expect(result.scenes[0].takes[0]).toMatchObject({ provider: 'fal', outcome: 'unavailable', costUsd: 0 });
    expect(result.scenes[0].takes[0].reason).toContain('reference image');
    expect(entries.filter((e) => e.contract === 'fal')).toHaveLength(0);
  });
});
