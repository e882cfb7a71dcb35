/**
 * Series on the seedance contract end to end: a real dev server, a real worker, the Ark twin over
 * HTTP, the official twin as fallback. The character is held by its reference stills (continuity
 * `referenced`); each fault ends the way a user wants it to, and the ledger shows nothing paid twice.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LedgerEntry } from '../simulator/server';
import type { SeriesResult } from '../workflows/types';
import { seriesUnder, startHarness, type Harness } from './helpers/harness';
import { seedanceThenOfficial } from './helpers/seedance';
import { seriesInput } from './helpers/specs';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    providers: (sim, tuning) => seedanceThenOfficial(sim.url, tuning),
    providerTimeoutMs: 3000,
  });
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => h.sim.reset());

const input = (scenes = 2, overrides: Parameters<typeof seriesInput>[1] = {}) =>
  seriesInput(h.sim.url, { providers: ['seedance', 'official'], ...overrides }, scenes);

/** Every billed job is a take of the result, once; the series' cost is what the twins billed. */
function expectNothingPaidTwice(result: SeriesResult, ledger: LedgerEntry[]): void {
  const takeJobs = result.scenes.flatMap((s) => s.takes.flatMap((t) => (t.jobId ? [t.jobId] : [])));
  const billed = ledger.filter((e) => e.billedUsd > 0);
  expect(billed.map((e) => e.jobId).filter((id) => !takeJobs.includes(id))).toEqual([]);
  expect(new Set(ledger.map((e) => e.jobId)).size).toBe(ledger.length);
  expect(billed.reduce((sum, e) => sum + e.billedUsd, 0)).toBeCloseTo(result.costUsd, 6);
}

async function expectAssetsIntact(result: SeriesResult): Promise<void> {
  for (const scene of result.scenes.filter((s) => s.status === 'completed')) {
    const bytes = await readFile(scene.assetPath!);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(scene.sha256);
  }
  const manifest = JSON.parse(await readFile(result.manifestPath, 'utf8'));
  expect(manifest.totals.costUsd).toBeCloseTo(result.costUsd, 6);
}

test('every scene on seedance, the character referenced by its stills, one billed task per scene', async () => {
  const result = await seriesUnder(h, {}, input(3));
  expect(result.status).toBe('completed');
  expect(result.scenes.map((s) => [s.status, s.provider, s.continuity, s.takes.length])).toEqual(
    [1, 2, 3].map(() => ['completed', 'seedance', 'referenced', 1]),
  );
  expect(result.character.refs.seedance).toMatchObject({ hold: 'referenced', mention: 'Mira' });
  const ledger = h.sim.ledger();
  expect(ledger.map((e) => e.contract)).toEqual(['seedance', 'seedance', 'seedance']);
  for (const entry of ledger) {
    expect(entry.prompt).toMatch(/^Mira \(Image 1; also Image 2 and Image 3\) scene number \d by the sea$/);
    expect(entry.characterIds).toEqual(['Image 1', 'Image 2', 'Image 3']);
  }
  // billed by tokens (720x1280 × 24 fps / 1024 per second at $7 per million), as estimated per second
  expect(ledger[0].billedUsd).toBeCloseTo(((ledger[0].seconds * 720 * 1280 * 24) / 1024) * 7e-6, 6);
  expectNothingPaidTwice(result, ledger);
  await expectAssetsIntact(result);
});

test('create answers lost after Ark accepted the tasks: each found by its seed, none bought twice', async () => {
  const scenario = { contracts: { seedance: { endpoints: { create: { reset: { burst: 2, afterHandling: true } } } } } };
  const result = await seriesUnder(h, scenario, input(3));
  expect(result.status).toBe('completed');
  expect(result.scenes.every((s) => s.provider === 'seedance' && s.takes.length === 1)).toBe(true);
  const ledger = h.sim.ledger();
  expect(ledger).toHaveLength(3);
  expect(h.sim.calls().byEndpoint.seedance.create).toBe(3);
  expectNothingPaidTwice(result, ledger);
});

test('a create answer lost before Ark took it: not re-sent, the scene finishes on the fallback', async () => {
  const scenario = { contracts: { seedance: { endpoints: { create: { reset: { burst: 1 } } } } } };
  const result = await seriesUnder(h, scenario, input(2, { maxParallel: 1 }));
  expect(result.status).toBe('completed');
  const [first, second] = result.scenes;
  expect(first.takes.map((t) => [t.provider, t.outcome])).toEqual([
    ['seedance', 'unavailable'],
    ['official', 'completed'],
  ]);
  expect(first.takes[0].reason).toMatch(/answer was lost .* not sent again/);
  expect(first).toMatchObject({ provider: 'official', continuity: 'kept' });
  expect(second).toMatchObject({ provider: 'seedance', continuity: 'referenced' }); // seedance is not down
  expect(h.sim.calls().byEndpoint.seedance.create).toBe(2);
  expectNothingPaidTwice(result, h.sim.ledger());
});

test('output moderation once: one more take on seedance (the failed one is free), then delivered', async () => {
  const scenario = { contracts: { seedance: { failJobs: { code: 'moderation_blocked' as const, burst: 1 } } } };
  const result = await seriesUnder(h, scenario, input(1));
  expect(result.status).toBe('completed');
  expect(result.scenes[0].takes.map((t) => [t.provider, t.outcome, t.costUsd > 0])).toEqual([
    ['seedance', 'failed', false],
    ['seedance', 'completed', true],
  ]);
  expect(h.sim.ledger().map((e) => e.billedUsd > 0)).toEqual([false, true]);
  expectNothingPaidTwice(result, h.sim.ledger());
});

test('balance exhausted: seedance is down for the series, every scene on the fallback', async () => {
  const scenario = { contracts: { seedance: { down: { status: 403 as const } } } };
  const result = await seriesUnder(h, scenario, input(2, { maxParallel: 1 }));
  expect(result.status).toBe('completed');
  expect(result.scenes.map((s) => s.provider)).toEqual(['official', 'official']);
  expect(result.scenes[0].takes[0]).toMatchObject({ provider: 'seedance', outcome: 'unavailable' });
  expect(result.scenes[0].takes[0].reason).toContain('AccountOverdueError');
  // the first scene opened seedance's circuit: the second went straight to the fallback
  expect(result.scenes[1].takes.map((t) => t.provider)).toEqual(['official']);
  expect(h.sim.ledger().every((e) => e.contract === 'official')).toBe(true);
  expectNothingPaidTwice(result, h.sim.ledger());
});

test('a prompt Ark moderates at submit: the scene is rejected, nothing billed', async () => {
  const result = await seriesUnder(
    h,
    { rejectWord: 'forbidden' },
    {
      ...input(1),
      scenes: [{ ...input(1).scenes[0], prompt: '@character walks into the forbidden zone' }],
    },
  );
  expect(result.scenes[0]).toMatchObject({ status: 'rejected' });
  expect(result.scenes[0].reason).toContain('InputTextSensitiveContentDetected');
  expect(h.sim.ledger()).toEqual([]);
});
