import pino from 'pino';
import { profilesOf } from '../activities/providers/registry';
import { startSeries } from '../client/series/series-client';
import { ensureProviderSlots } from '../workers/provider-slots';
import { providerSlotsWorkflowId } from '../workflows/ids';
import { slotsQuery } from '../workflows/provider-slots';
import type { SeriesResult } from '../workflows/types';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { expectPaidOncePerTake } from './helpers/payments';
import { seriesInput } from './helpers/specs';

/**
 * A provider's concurrency is one limit for every series: two series at once on a relay that
 * refuses a 4th concurrent job (429 concurrency_limit, as real relays do). With the shared
 * limiter nothing is refused; without it (each series' own window of 3) the upstream refuses.
 */
describe('one concurrency limit per provider across series', () => {
  const RELAY_LIMIT = { contracts: { 'relay-v1': { maxConcurrentJobs: 3 } } };

  async function twoSeriesAtOnce(h: Harness): Promise<{ refused: number; results: SeriesResult[]; ids: string[] }> {
    h.sim.setScenario(RELAY_LIMIT);
    const inputs = [1, 2].map(() => seriesInput(h.sim.url, { providers: ['relay'], maxParallel: 3 }, 6));
    const handles = await Promise.all(inputs.map((input) => startSeries(h.client, input, { taskQueue: h.taskQueue })));
    const results = await Promise.all(handles.map((handle) => handle.result()));
    const generateCalls = h.sim.calls().byEndpoint['relay-v1'].generate ?? 0;
    const accepted = h.sim.ledger().filter((e) => e.contract === 'relay-v1').length;
    return { refused: generateCalls - accepted, results, ids: handles.map((x) => x.workflowId) };
  }

  test('with the shared limiter: both series complete and the relay never refuses for concurrency', async () => {
    const h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1.5 } });
    try {
      const profiles = profilesOf(relayAndOfficial(h.sim));
      await ensureProviderSlots(h.client, h.taskQueue, profiles, pino({ level: 'silent' }));
      const limiter = h.client.workflow.getHandle(providerSlotsWorkflowId(h.taskQueue, 'relay'));
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const view = await limiter.query(slotsQuery).catch(() => undefined);
          if (view) peak = Math.max(peak, view.held.length);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const { refused, results, ids } = await twoSeriesAtOnce(h);
      sampling = false;
      await sampler;
      console.log(`shared limiter: relay refused ${refused} submissions for concurrency; peak slots held ${peak} of 3`);
      expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);
      results.forEach((r, i) => expectPaidOncePerTake(h.sim.ledger(), r, ids[i]));
      expect(refused).toBe(0);
      expect(peak).toBe(3); // used fully, never more
      const after = await limiter.query(slotsQuery);
      expect(after).toMatchObject({ provider: 'relay', limit: 3, held: [], waiting: [] });
      // A series keeps its slot for its next scene: fewer grants than the 12 scenes run.
      console.log(`grants for 12 scenes: ${after.granted}, slots asked back: ${after.reclaimed ?? 0}`);
      expect(after.granted).toBeLessThan(12);
    } finally {
      await h.stop();
    }
  });

  test('a small series started behind a large one gets its share and finishes first (slots asked back, fewest-held first)', async () => {
    const h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1.5 } });
    try {
      h.sim.setScenario(RELAY_LIMIT);
      const profiles = profilesOf(relayAndOfficial(h.sim));
      await ensureProviderSlots(h.client, h.taskQueue, profiles, pino({ level: 'silent' }));
      const limiter = h.client.workflow.getHandle(providerSlotsWorkflowId(h.taskQueue, 'relay'));
      const large = await startSeries(h.client, seriesInput(h.sim.url, { providers: ['relay'], maxParallel: 3 }, 12), {
        taskQueue: h.taskQueue,
      });
      // The large series holds every slot before the small one asks.
      for (let view = await limiter.query(slotsQuery); view.held.length < 3; view = await limiter.query(slotsQuery))
        await new Promise((r) => setTimeout(r, 50));
      const small = await startSeries(h.client, seriesInput(h.sim.url, { providers: ['relay'], maxParallel: 3 }, 2), {
        taskQueue: h.taskQueue,
      });
      const ends: string[] = [];
      const [largeResult, smallResult] = await Promise.all(
        [
          [large, 'large'],
          [small, 'small'],
        ].map(async ([handle, name]) => {
          const result = await (handle as typeof large).result();
          ends.push(name as string);
          return result;
        }),
      );
      const after = await limiter.query(slotsQuery);
      const accepted = h.sim.ledger().filter((e) => e.contract === 'relay-v1').length;
      const refused = (h.sim.calls().byEndpoint['relay-v1'].generate ?? 0) - accepted;
      console.log(
        `finished in order ${ends.join(', ')}; grants ${after.granted} for 14 scenes, asked back ${after.reclaimed ?? 0}`,
      );
      expect([largeResult.status, smallResult.status]).toEqual(['completed', 'completed']);
      expect(ends).toEqual(['small', 'large']);
      expect(after.reclaimed).toBeGreaterThanOrEqual(1);
      expect(after).toMatchObject({ held: [], waiting: [] });
      expect(refused).toBe(0);
    } finally {
      await h.stop();
    }
  });

  test('without it, each series keeps only its own window and the relay refuses the excess (the difference is real)', async () => {
    const h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1.5 } });
    try {
      const { refused, results } = await twoSeriesAtOnce(h);
      console.log(`no shared limiter: relay refused ${refused} submissions for concurrency`);
      expect(results.map((r) => r.status)).toEqual(['completed', 'completed']); // 429s are retried, so it still finishes
      expect(refused).toBeGreaterThan(0);
    } finally {
      await h.stop();
    }
  });
});
