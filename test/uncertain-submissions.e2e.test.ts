/**
 * Uncertain submissions end to end: a real dev server, a real worker, the seedance and fal twins
 * over HTTP, the official twin as fallback. A submit whose answer is lost after the upstream took
 * it, on a contract without an idempotency key, and whose job the upstream's list does not show,
 * is counted: on its take, in status, watch, the report and the manifest, against the budget; and
 * what the series says it may have paid is what the twins' ledger billed.
 */
import { readFile } from 'node:fs/promises';
import { parseProviderConfig } from '../activities/providers/config';
import { formatReport } from '../client/commands/run';
import { endLine, liveLines, type WatchSnapshot } from '../client/commands/watch';
import { seriesReport, startSeries } from '../client/series/series-client';
import { raiseBudget } from '../client/series/steering';
import type { LedgerEntry, Scenario } from '../simulator/server';
import { seriesStatusQuery, type SeriesStatusView } from '../workflows/messages';
import type { SeriesInput, SeriesResult } from '../workflows/types';
import { falEntry } from './helpers/fal';
import { startHarness, type Harness } from './helpers/harness';
import { seedanceEntry } from './helpers/seedance';
import { seriesInput } from './helpers/specs';

/** 10 s scenes at 720x1280: seedance by tokens (216,000 at $7 per million), fal's Seedance at $0.3024 a second, sora-2 12 s at $0.10. */
const SEEDANCE_USD = 1.512;
const FAL_USD = 3.024;
const OFFICIAL_USD = 1.2;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    providerTimeoutMs: 3000,
    providers: (sim, tuning) =>
      parseProviderConfig({
        providers: [
          seedanceEntry(sim.url, tuning),
          falEntry(sim, tuning),
          {
            name: 'official',
            contract: 'official',
            baseUrl: `${sim.url}/v1`,
            keyEnv: 'SORA_OFFICIAL_KEY',
            model: 'sora-2',
            maxConcurrency: 4,
            ...tuning,
          },
        ],
      }),
  });
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => h.sim.reset());
afterEach(() => h.sim.setScenario({}));

/** The create's answer lost after the upstream took the job, and its job list down: nothing can tell whether it bills. */
const lostAndUnlisted: Record<'seedance' | 'fal', Scenario> = {
  seedance: {
    contracts: {
      seedance: {
        endpoints: { create: { reset: { burst: 1, afterHandling: true } }, list: { down: { status: 404 } } },
      },
    },
  },
  fal: {
    contracts: {
      fal: { endpoints: { submit: { reset: { burst: 1, afterHandling: true } }, requests: { down: { status: 404 } } } },
    },
  },
};

async function statusOf(id: string): Promise<SeriesStatusView> {
  return h.client.workflow.getHandle(id).query(seriesStatusQuery);
}

/** Polls the status query until `check` holds (the series' own pace decides when, so no clock is asserted). */
async function until(id: string, check: (view: SeriesStatusView) => boolean): Promise<SeriesStatusView> {
  for (;;) {
    const view = await statusOf(id).catch(() => undefined);
    if (view && check(view)) return view;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The ledger agrees with the series: it billed at least what the series paid, at most what it may have paid. */
function expectLedgerAgrees(result: SeriesResult, ledger: LedgerEntry[], mayHavePaidUsd: number): void {
  const billedUsd = ledger.reduce((sum, e) => sum + e.billedUsd, 0);
  expect(billedUsd).toBeCloseTo(mayHavePaidUsd, 6);
  const paidFor = new Set(result.scenes.flatMap((s) => s.takes.flatMap((t) => (t.costUsd > 0 ? [t.jobId] : []))));
  // the one billed job no take knows is the uncertain submission, priced as the series counted it
  const unknown = ledger.filter((e) => e.billedUsd > 0 && !paidFor.has(e.jobId));
  const uncertain = result.scenes.flatMap((s) => s.takes.flatMap((t) => (t.uncertain ? [t.uncertain.usd] : [])));
  expect(unknown.map((e) => e.billedUsd)).toEqual(uncertain);
}

async function manifestTotals(result: SeriesResult): Promise<Record<string, number>> {
  return JSON.parse(await readFile(result.manifestPath, 'utf8')).totals;
}

test('seedance loses an accepted create and cannot list it: counted, its price reserved, the budget pauses the fallback', async () => {
  const input: SeriesInput = seriesInput(h.sim.url, { providers: ['seedance', 'official'], budgetUsd: 2.5 }, 1);
  h.sim.setScenario(lostAndUnlisted.seedance);
  const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });

  // Without counting the lost submit the official take ($1.20) would fit $2.50; with it, it needs $2.71.
  // (a series that does not count it runs the scene to its end instead: then this fails, not hangs)
  const paused = await until(handle.workflowId, (v) => v.paused?.by === 'budget' || v.scenesDone === 1);
  expect(paused.paused?.by).toBe('budget');
  expect(paused.uncertainSubmissions).toEqual({ count: 1, usd: SEEDANCE_USD });
  expect(paused.budget.reservedUsd).toBeCloseTo(SEEDANCE_USD, 6);
  expect(paused.paused!.reason).toContain(`needs $${(SEEDANCE_USD + OFFICIAL_USD).toFixed(2)}`);
  const snapshot = {
    id: handle.workflowId,
    status: paused.status,
    scenesDone: paused.scenesDone,
    scenesTotal: paused.scenesTotal,
    costUsd: paused.costUsd,
    uncertainSubmissions: paused.uncertainSubmissions,
    awaitingReview: [],
    queued: [],
    running: [],
    finished: [],
  } satisfies WatchSnapshot;
  expect(liveLines(snapshot).map(([, line]) => line)).toContainEqual(
    expect.stringMatching(/^uncertain submissions: 1, up to \$1\.51 more may have been billed/),
  );

  await raiseBudget(h.client, handle.workflowId, 3);
  const result = await handle.result();
  expect(result.status).toBe('completed');
  const [scene] = result.scenes;
  expect(scene).toMatchObject({ provider: 'official', costUsd: OFFICIAL_USD });
  expect(scene.takes.map((t) => [t.provider, t.outcome, t.costUsd])).toEqual([
    ['seedance', 'unavailable', 0],
    ['official', 'completed', OFFICIAL_USD],
  ]);
  expect(scene.takes[0].uncertain).toMatchObject({ code: 'answer_lost', usd: SEEDANCE_USD });
  expect(scene.takes[0].uncertain!.message).toMatch(/answer was lost .* not sent again/);
  expect(h.sim.calls().byEndpoint.seedance.create).toBe(1); // not sent again

  const report = await seriesReport(h.client, handle.workflowId);
  expect(report.uncertainSubmissions).toEqual({ count: 1, usd: SEEDANCE_USD });
  expect(report.scenes[0].uncertainSubmissions).toEqual({ count: 1, usd: SEEDANCE_USD });
  expect(formatReport(report)).toContain('uncertain submissions: 1, up to $1.51 more may have been billed');
  expect(
    endLine({ ...snapshot, costUsd: report.costUsd, uncertainSubmissions: report.uncertainSubmissions, ended: true }),
  ).toContain('$1.20 (+ up to $1.51 for 1 uncertain submission(s))');
  expect((await statusOf(handle.workflowId)).budget).toMatchObject({
    spentUsd: OFFICIAL_USD,
    uncertainUsd: SEEDANCE_USD,
  });
  expect(await manifestTotals(result)).toMatchObject({
    costUsd: OFFICIAL_USD,
    uncertainSubmissions: 1,
    uncertainUsd: SEEDANCE_USD,
    mayHavePaidUsd: 2.712,
  });
  expect((await handle.describe()).memo).toMatchObject({ uncertainSubmissions: 1, uncertainUsd: SEEDANCE_USD });
  // Ark took the lost create and bills it: the series said so
  expectLedgerAgrees(result, h.sim.ledger(), SEEDANCE_USD + OFFICIAL_USD);
});

test('fal loses an accepted submit and cannot list it: counted on the take, in status and the manifest; the ledger agrees', async () => {
  const input = seriesInput(h.sim.url, { providers: ['fal', 'official'], maxParallel: 1 }, 2);
  h.sim.setScenario(lostAndUnlisted.fal);
  const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
  const result = await handle.result();
  expect(result.status).toBe('completed');
  const [first, second] = result.scenes;
  expect(first.takes.map((t) => [t.provider, t.outcome, t.costUsd])).toEqual([
    ['fal', 'unavailable', 0],
    ['official', 'completed', OFFICIAL_USD],
  ]);
  expect(first.takes[0].uncertain).toMatchObject({ code: 'answer_lost', usd: FAL_USD });
  expect(first.takes[0].uncertain!.message).toMatch(/answer was lost .* not sent again/);
  // no take of the other scene is uncertain, whichever provider it ran on
  expect(second.takes.every((t) => !t.uncertain)).toBe(true);

  const counted = { count: 1, usd: FAL_USD };
  expect((await statusOf(handle.workflowId)).uncertainSubmissions).toEqual(counted);
  expect((await seriesReport(h.client, handle.workflowId)).uncertainSubmissions).toEqual(counted);
  const totals = await manifestTotals(result);
  expect(totals).toMatchObject({ uncertainSubmissions: 1, uncertainUsd: FAL_USD });
  expect(totals.mayHavePaidUsd).toBeCloseTo(result.costUsd + FAL_USD, 6);
  expectLedgerAgrees(result, h.sim.ledger(), result.costUsd + FAL_USD);
});

test('a lost answer found again is not uncertain: nothing counted, nothing reserved', async () => {
  const input = seriesInput(h.sim.url, { providers: ['seedance', 'official'] }, 1);
  h.sim.setScenario({
    contracts: { seedance: { endpoints: { create: { reset: { burst: 1, afterHandling: true } } } } },
  });
  const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
  const result = await handle.result();
  expect(result.scenes[0]).toMatchObject({ provider: 'seedance', costUsd: SEEDANCE_USD });
  expect(result.scenes[0].takes.every((t) => !t.uncertain)).toBe(true);
  expect((await seriesReport(h.client, handle.workflowId)).uncertainSubmissions).toEqual({ count: 0, usd: 0 });
  expect(await manifestTotals(result)).toMatchObject({ uncertainSubmissions: 0, mayHavePaidUsd: SEEDANCE_USD });
  expect((await handle.describe()).memo?.uncertainSubmissions).toBeUndefined();
  expectLedgerAgrees(result, h.sim.ledger(), SEEDANCE_USD);
});
