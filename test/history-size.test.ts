import { startSeries } from '../client/series/series-client';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { seriesInput } from './helpers/specs';

/**
 * Waiting happens inside one heartbeating activity, so a scene's history does not grow with
 * generation time: the same scene at 1 s and at 30 s of simulated generation has the same events.
 */
describe('scene history is independent of generation time', () => {
  let short: Harness;
  let long: Harness;
  beforeAll(async () => {
    [short, long] = await Promise.all([
      startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1, jitter: 0 } }),
      startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 30, jitter: 0 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([short?.stop(), long?.stop()]);
  });

  async function sceneEvents(h: Harness): Promise<{ events: number; seconds: number }> {
    const started = Date.now();
    const handle = await startSeries(h.client, seriesInput(h.sim.url, {}, 1), { taskQueue: h.taskQueue });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    const history = await h.client.workflow.getHandle(`${handle.workflowId}/scene-1`).fetchHistory();
    return { events: history.events!.length, seconds: (Date.now() - started) / 1000 };
  }

  test('1 s and 30 s generations produce the same number of scene events', async () => {
    const [a, b] = await Promise.all([sceneEvents(short), sceneEvents(long)]);
    console.log(
      `scene history: ${a.events} events at 1 s generation (${a.seconds.toFixed(1)} s), ${b.events} events at 30 s (${b.seconds.toFixed(1)} s)`,
    );
    expect(b.seconds).toBeGreaterThan(25); // the long one really waited
    expect(b.events).toBe(a.events);
    expect(a.events).toBeLessThanOrEqual(30);
  }, 90_000);
});
