/**
 * Chaos on the default chain: Kling's policy changes mid-series (after its 3rd task it answers
 * every new task 403, as an account blocked by a policy change would; tasks already accepted still
 * finish). The series must finish every scene, the rest on fal (the next live contract in the
 * chain), with continuity reported per scene (`kept` on Kling's element, `referenced` on fal's
 * stills), in the result and in the manifest, and the ledger must show nothing paid twice.
 */
import { readFile } from 'node:fs/promises';
import { startSeries } from '../../client/series/series-client';
import { DEFAULT_PROVIDER_CHAIN } from '../../workflows/provider-rules';
import { startHarness, type Harness } from '../helpers/harness';
import { recordMeasurement } from '../helpers/measurements';
import { auditPayments } from '../helpers/payments';
import { seriesInput } from '../helpers/specs';
import { seriesOutcome, sha256Of } from './chaos-kit';

const SCENES = 12;
/** Kling tasks accepted before the policy change. */
const ACCEPTED = 3;
/**
 * The series stops routing to Kling once a refused scene reports it; until then the scenes in its
 * window (Kling's default concurrency, 5) may each learn of the change once. Never one per scene.
 */
const MAX_REFUSED_CREATES = 5;

describe('chaos: Kling is lost to a policy change mid-series', () => {
  let h: Harness;
  beforeAll(async () => {
    // the harness's default providers: the dev stack's chain (kling, fal, seedance, official)
    h = await startHarness({ simulator: { seed: 41, jobSeconds: 1, jitter: 0.3 }, pollIntervalMs: 200 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test(
    `a ${SCENES}-scene series finishes on fal once Kling refuses new tasks after ${ACCEPTED}`,
    async () => {
      const ledgerBefore = h.sim.ledger().length;
      const createsBefore = h.sim.calls().byEndpoint.kling.create ?? 0;
      h.sim.setScenario({
        contracts: { kling: { endpoints: { create: { down: { status: 403, afterCalls: ACCEPTED } } } } },
      });
      const input = seriesInput(h.sim.url, { providers: [...DEFAULT_PROVIDER_CHAIN] }, SCENES);
      const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
      let result;
      try {
        result = await seriesOutcome(handle, 4 * 60_000);
      } finally {
        h.sim.setScenario({});
      }
      const entries = h.sim.ledger().slice(ledgerBefore);
      const refusedCreates = (h.sim.calls().byEndpoint.kling.create ?? 0) - createsBefore - ACCEPTED;

      expect(result.status).toBe('completed');
      expect(result.scenes).toHaveLength(SCENES);
      const onKling = result.scenes.filter((s) => s.provider === 'kling');
      const onFal = result.scenes.filter((s) => s.provider === 'fal');
      // every accepted Kling task delivered its scene; everything else went to fal, none further down the chain
      expect(onKling).toHaveLength(ACCEPTED);
      expect(onFal).toHaveLength(SCENES - ACCEPTED);
      for (const scene of result.scenes) {
        expect(scene.status).toBe('completed');
        expect(scene.continuity).toBe(scene.provider === 'kling' ? 'kept' : 'referenced');
        expect(await sha256Of(scene.assetPath!)).toBe(scene.sha256);
      }
      // scenes that met the refusal record it: an unpaid Kling take, `unavailable`, then fal's
      const refusedTakes = onFal.flatMap((s) => s.takes.filter((t) => t.provider === 'kling'));
      expect(refusedTakes.length).toBeGreaterThanOrEqual(1);
      expect(refusedTakes.every((t) => t.outcome === 'unavailable' && t.costUsd === 0 && !t.jobId)).toBe(true);
      expect(onKling.every((s) => s.takes.length === 1)).toBe(true);

      // The manifest reports the same, scene by scene.
      const manifest = JSON.parse(await readFile(result.manifestPath, 'utf8')) as {
        scenes: Array<{ index: number; provider: string; continuity: string }>;
        totals: { costUsd: number };
      };
      expect(manifest.scenes.map((s) => [s.index, s.provider, s.continuity])).toEqual(
        result.scenes.map((s) => [s.index, s.provider, s.provider === 'kling' ? 'kept' : 'referenced']),
      );

      // The character on both: one Kling element named in every Kling task, fal's stills in every fal request.
      const elementId = result.character.refs.kling?.id;
      expect(result.character.refs.kling).toMatchObject({ hold: 'kept' });
      expect(result.character.refs.fal).toMatchObject({ hold: 'referenced', references: expect.any(Array) });
      const klingJobs = entries.filter((e) => e.contract === 'kling');
      const falJobs = entries.filter((e) => e.contract === 'fal');
      expect(klingJobs.every((e) => e.characterIds.includes(elementId!))).toBe(true);
      expect(falJobs.every((e) => e.prompt.startsWith('Mira (@Image1'))).toBe(true);

      // Nothing paid twice: Kling's tasks once per idempotency key (its external_task_id), fal's
      // requests (no key on that contract) once per job, every billed job a scene's take.
      const audit = auditPayments(h.sim.ledger(), result, handle.workflowId);
      expect(audit.repeatedKeys).toEqual([]);
      expect(audit.billed.filter((e) => e.contract === 'kling')).toHaveLength(ACCEPTED);
      expect(klingJobs).toHaveLength(ACCEPTED);
      expect(falJobs).toHaveLength(SCENES - ACCEPTED);
      expect(entries.filter((e) => e.contract !== 'kling' && e.contract !== 'fal')).toEqual([]);
      const takeJobs = result.scenes.flatMap((s) =>
        s.takes.filter((t) => t.outcome === 'completed').map((t) => t.jobId),
      );
      expect(entries.map((e) => e.jobId).sort()).toEqual([...takeJobs].sort());
      const billedUsd = entries.reduce((sum, e) => sum + e.billedUsd, 0);
      expect(result.costUsd).toBeCloseTo(billedUsd, 6);
      expect(manifest.totals.costUsd).toBeCloseTo(billedUsd, 6);

      // Refused creates cost nothing; there are few of them, not one per remaining scene.
      expect(refusedCreates).toBeGreaterThanOrEqual(1); // the change did happen
      expect(refusedCreates).toBeLessThanOrEqual(MAX_REFUSED_CREATES);

      recordMeasurement('kling_policy_change.scenes_on_fal', onFal.length, `of ${SCENES}`);
      recordMeasurement('kling_policy_change.refused_kling_creates', refusedCreates, 'calls');
      recordMeasurement('kling_policy_change.duplicate_payments', audit.duplicatePayments, 'billed jobs');
      console.log(
        `kling policy change: ${onKling.length} scenes on kling (kept), ${onFal.length} on fal (referenced), ` +
          `${refusedCreates} refused kling creates, billed $${billedUsd.toFixed(4)} = manifest $${result.costUsd.toFixed(4)}`,
      );
    },
    6 * 60_000,
  );
});
