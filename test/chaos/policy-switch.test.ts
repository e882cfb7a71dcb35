/**
 * Chaos: the relay's policy changes mid-series (it starts answering 403 "free accounts are
 * blocked" after its 3rd call). The series must finish every scene on the official contract with
 * the character kept, and stop calling the relay quickly: the calls wasted on it after the switch
 * are bounded by the scenes in flight at that moment, not one (or more) per remaining scene.
 */
import { startSeries } from '../../client/series/series-client';
import type { LedgerSnapshot } from '../../simulator/server';
import { startHarness, type Harness } from '../helpers/harness';
import { relayAndOfficial } from '../helpers/sora-pair';
import { recordMeasurement } from '../helpers/measurements';
import { seriesInput } from '../helpers/specs';
import { seriesOutcome, sha256Of } from './chaos-kit';
import { expectPaidOncePerTake } from '../helpers/payments';

const SCENES = 12;
const WORKING_CALLS = 3;
/** Relay concurrency is 3, so at most 3 scenes are in flight when it goes; each may learn it once. */
const MAX_WASTED_CALLS = 6;

/** `/admin/ledger`, as any drill reads it; `callsByEndpoint` is optional for older simulators. */
type AdminLedger = Omit<LedgerSnapshot, 'callsByEndpoint'> & Partial<Pick<LedgerSnapshot, 'callsByEndpoint'>>;

describe('chaos: the relay is switched off mid-series', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      providers: relayAndOfficial,
      simulator: { seed: 31, jobSeconds: 2, jitter: 0.3 },
      pollIntervalMs: 200,
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const adminLedger = async (): Promise<AdminLedger> => {
    const response = await fetch(`${h.sim.url}/admin/ledger`);
    expect(response.status).toBe(200);
    return (await response.json()) as AdminLedger;
  };

  test(
    `a ${SCENES}-scene series moves to official with the character when the relay starts refusing after ${WORKING_CALLS} calls`,
    async () => {
      const before = await adminLedger();
      h.sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403, afterCalls: WORKING_CALLS } } } });
      const input = seriesInput(h.sim.url, {}, SCENES);
      const began = Date.now();
      const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
      const result = await seriesOutcome(handle, 5 * 60_000);
      const seconds = (Date.now() - began) / 1000;
      const after = await adminLedger();

      expect(result.status).toBe('completed');
      expect(result.scenes).toHaveLength(SCENES);
      for (const scene of result.scenes) {
        expect(scene).toMatchObject({ status: 'completed', continuity: 'kept' });
        expect(['relay', 'official']).toContain(scene.provider);
        expect(await sha256Of(scene.assetPath!)).toBe(scene.sha256);
      }
      // Each scene on the relay needs at least one of its 3 working calls: the rest went official.
      const onRelay = result.scenes.filter((s) => s.provider === 'relay');
      const onOfficial = result.scenes.filter((s) => s.provider === 'official');
      expect(onRelay.length).toBeLessThanOrEqual(WORKING_CALLS);
      expect(onOfficial.length).toBeGreaterThanOrEqual(SCENES - WORKING_CALLS);
      // The character followed: created on the official side once, named in every official job.
      expect(result.character.refs.official?.id).toMatch(/^char_/);
      const audit = expectPaidOncePerTake(h.sim.ledger(), result, handle.workflowId);
      const officialJobs = audit.entries.filter((e) => e.contract === 'official');
      expect(officialJobs.length).toBeGreaterThanOrEqual(onOfficial.length);
      expect(
        officialJobs.every(
          (e) => e.characterIds.includes(result.character.refs.official.id) && e.prompt.includes('Mira'),
        ),
      ).toBe(true);

      // Calls to the relay after the switch, refused ones included: few, not one per scene.
      const relayCalls = after.calls['relay-v1'] - before.calls['relay-v1'];
      const wasted = relayCalls - WORKING_CALLS;
      expect(relayCalls).toBeGreaterThanOrEqual(WORKING_CALLS); // the switch did happen
      expect(wasted).toBeLessThanOrEqual(MAX_WASTED_CALLS);

      // Relay jobs accepted before the switch whose scenes then moved on: paid, never delivered.
      const completedJobs = new Set(
        result.scenes.flatMap((s) => s.takes.filter((t) => t.outcome === 'completed').map((t) => t.jobId)),
      );
      const abandoned = audit.billed.filter((e) => e.contract === 'relay-v1' && !completedJobs.has(e.jobId));
      const billedUsd = audit.billed.reduce((sum, e) => sum + e.billedUsd, 0);

      recordMeasurement('faults_injected', 1, 'relay policy switch (403)');
      recordMeasurement('scenes_lost', SCENES - result.scenes.filter((s) => s.status === 'completed').length, 'scenes');
      recordMeasurement('duplicate_payments', audit.duplicatePayments, 'billed jobs');
      recordMeasurement('wasted_calls_after_policy_change', wasted, 'relay calls');
      recordMeasurement('policy_switch.scenes_on_official', onOfficial.length, `of ${SCENES}`);
      recordMeasurement('policy_switch.abandoned_paid_relay_jobs', abandoned.length, 'jobs');
      recordMeasurement(
        'policy_switch.cost_not_in_manifest',
        Math.round((billedUsd - result.costUsd) * 100) / 100,
        'USD',
      );
      recordMeasurement('policy_switch.series_duration', Math.round(seconds), 's');
      const relayByEndpoint = endpointDiff(before.callsByEndpoint?.['relay-v1'], after.callsByEndpoint?.['relay-v1']);
      if (relayByEndpoint) recordMeasurement('policy_switch.relay_calls_by_endpoint', relayByEndpoint);
      console.log(
        `policy switch: ${relayCalls} relay calls (${wasted} after the switch), ${onRelay.length} scenes on relay, ${onOfficial.length} on official, ` +
          `${abandoned.length} paid relay jobs abandoned, billed $${billedUsd.toFixed(2)} vs manifest $${result.costUsd.toFixed(2)}, ${seconds.toFixed(0)} s` +
          (relayByEndpoint ? `\n  relay calls by endpoint (whole series): ${relayByEndpoint}` : ''),
      );
    },
    8 * 60_000,
  );
});

/** `generate 3, task 3` from two per-endpoint counts; undefined when the simulator does not count per endpoint. */
function endpointDiff(
  before: Record<string, number> | undefined,
  after: Record<string, number> | undefined,
): string | undefined {
  if (!after) return undefined;
  return Object.entries(after)
    .map(([endpoint, n]) => [endpoint, n - (before?.[endpoint] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([endpoint, n]) => `${endpoint} ${n}`)
    .join(', ');
}
