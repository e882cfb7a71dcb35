import type { Scenario } from '../../simulator/server';
import type { SeriesInput, SeriesResult } from '../../workflows/types';
import { seriesUnder, startHarness, type Harness } from '../helpers/harness';
import { relayAndOfficial } from '../helpers/sora-pair';
import { recordMeasurement } from '../helpers/measurements';
import { expectPaidOncePerTake } from '../helpers/payments';
import { seriesInput } from '../helpers/specs';

/**
 * Every upstream fault the simulator can inject, each with the outcome a user wants: the
 * series finishes where it can, nothing is paid twice, and what was paid is recorded.
 */
describe('upstream faults, series outcomes', () => {
  let h: Harness;
  let faults = 0;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial, providerTimeoutMs: 1500, simulator: { jobSeconds: 0.4 } });
  });
  afterAll(async () => {
    recordMeasurement('faults_injected', faults);
    await h?.stop();
  });

  const runUnder = (scenario: Scenario, input: SeriesInput): Promise<SeriesResult> => {
    faults++;
    return seriesUnder(h, scenario, input);
  };
  const jobsOf = (input: SeriesInput) =>
    h.sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`series/${input.name}/`));

  const expectOneJobPerTake = (input: SeriesInput, result: SeriesResult) =>
    expectPaidOncePerTake(h.sim.ledger(), result, `series/${input.name}`);

  const relayOnly = (n = 2) => seriesInput(h.sim.url, { providers: ['relay'] }, n);
  const officialOnly = (n = 2) =>
    seriesInput(h.sim.url, { providers: ['official'], defaults: { seconds: 4, size: '720x1280' } }, n);

  test('latency with jitter: slower, same result', async () => {
    const input = relayOnly();
    const result = await runUnder({ contracts: { 'relay-v1': { latencyMs: { min: 50, max: 300 } } } }, input);
    expect(result.status).toBe('completed');
    expectOneJobPerTake(input, result);
  });

  test('429 with Retry-After: retried after the delay the upstream asked for, billed once', async () => {
    const input = relayOnly(1);
    const started = Date.now();
    const result = await runUnder(
      { contracts: { 'relay-v1': { endpoints: { generate: { rateLimit: { retryAfterSeconds: 2, burst: 1 } } } } } },
      input,
    );
    expect(result.status).toBe('completed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(result.scenes[0].takes).toHaveLength(1);
    expectOneJobPerTake(input, result);
  });

  test('a relay at its concurrency limit (429 concurrency_limit): takes wait their turn, billed once', async () => {
    const input = relayOnly(3);
    const result = await runUnder({ contracts: { 'relay-v1': { maxConcurrentJobs: 1 } } }, input);
    expect(result.status).toBe('completed');
    expect(result.scenes.every((s) => s.provider === 'relay' && s.takes.length === 1)).toBe(true);
    expect(h.sim.calls().byEndpoint['relay-v1'].generate).toBeGreaterThan(3); // some were refused and retried
    expectOneJobPerTake(input, result);
  }, 90_000);

  test('a burst of 5xx while polling: the wait resumes, one job per take', async () => {
    const input = relayOnly();
    const result = await runUnder(
      { contracts: { 'relay-v1': { endpoints: { task: { serverErrors: { status: 502, burst: 3 } } } } } },
      input,
    );
    expect(result.status).toBe('completed');
    expectOneJobPerTake(input, result);
  });

  test('a connection reset after the upstream accepted the job: the retry gets the same job (idempotency key)', async () => {
    const input = relayOnly(1);
    const result = await runUnder(
      { contracts: { 'relay-v1': { endpoints: { generate: { reset: { burst: 1, afterHandling: true } } } } } },
      input,
    );
    expect(result.status).toBe('completed');
    expect(jobsOf(input)).toHaveLength(1);
    expectOneJobPerTake(input, result);
  });

  test('an upstream that ignores idempotency keys and loses the answer: reconciliation finds the job (official)', async () => {
    const input = officialOnly(1);
    const result = await runUnder(
      {
        contracts: {
          official: {
            ignoreIdempotencyKeys: true,
            endpoints: { create: { reset: { burst: 1, afterHandling: true } } },
          },
        },
      },
      input,
    );
    expect(result.status).toBe('completed');
    expect(jobsOf(input)).toHaveLength(1);
    expectOneJobPerTake(input, result);
  });

  test('a hang past the client timeout, then malformed and contract-breaking bodies: all transient', async () => {
    const input = relayOnly();
    const result = await runUnder(
      { contracts: { 'relay-v1': { endpoints: { task: { hang: { ms: 4000, burst: 1 }, malformed: { burst: 2 } } } } } },
      input,
    );
    expect(result.status).toBe('completed');
    const official = officialOnly(1);
    const broken = await runUnder(
      { contracts: { official: { endpoints: { retrieve: { contractBreak: { burst: 2 } } } } } },
      official,
    );
    expect(broken.status).toBe('completed');
    expectOneJobPerTake(official, broken);
  });

  test('a job stuck at 99 % is given up at the deadline, paid for, and the scene moves on', async () => {
    const input = { ...seriesInput(h.sim.url, {}, 1), jobDeadlineSeconds: 3 };
    const result = await runUnder({ contracts: { 'relay-v1': { stuck: { at: 99, forever: true } } } }, input);
    expect(result.status).toBe('completed');
    const takes = result.scenes[0].takes;
    expect(takes.map((t) => [t.provider, t.outcome])).toEqual([
      ['relay', 'failed'],
      ['relay', 'failed'],
      ['official', 'completed'],
    ]);
    expect(takes[0].reason).toMatch(/not finished by its deadline/);
    expect(takes[0].costUsd).toBe(0.12); // a stuck job was accepted and billed: recorded
    expect(result.scenes[0].costUsd).toBeCloseTo(0.24 + 1.2, 6);
    expectOneJobPerTake(input, result);
  }, 60_000);

  test('content that expired before it was stored: fetched again through the provider, then regenerated', async () => {
    const input = seriesInput(h.sim.url, {}, 1);
    const result = await runUnder({ contracts: { 'relay-v1': { contentTtlSeconds: 0.001 } } }, input);
    expect(result.status).toBe('completed');
    const takes = result.scenes[0].takes;
    // Each relay take was paid for; the stored copy failed after fresh task lookups; official delivered.
    expect(takes.map((t) => [t.provider, t.outcome, t.costUsd])).toEqual([
      ['relay', 'failed', 0.12],
      ['relay', 'failed', 0.12],
      ['official', 'completed', 1.2],
    ]);
    expect(takes[0].reason).toMatch(/stored copy failed: .*(expired|gone)/);
    expect(h.sim.calls().byEndpoint['relay-v1'].task).toBeGreaterThanOrEqual(4); // a fresh URL asked for each time
    expectOneJobPerTake(input, result);
  });

  test('processing_error (heavy load) fails a take, not billed; a new take finishes the scene', async () => {
    const input = relayOnly(1);
    const result = await runUnder(
      { contracts: { 'relay-v1': { failJobs: { code: 'processing_error', burst: 1 } } } },
      input,
    );
    expect(result.status).toBe('completed');
    expect(result.scenes[0].takes.map((t) => [t.outcome, t.costUsd])).toEqual([
      ['failed', 0],
      ['completed', 0.12],
    ]);
    expectOneJobPerTake(input, result);
  });

  test('a revoked character (cameo_permission_denied) moves the scene to official with the character kept', async () => {
    const input = seriesInput(h.sim.url, {}, 2);
    const result = await runUnder({ contracts: { 'relay-v1': { revokeAllCharacters: true } } }, input);
    expect(result.status).toBe('completed');
    for (const scene of result.scenes) expect(scene).toMatchObject({ provider: 'official', continuity: 'kept' });
    expect(result.scenes[0].takes[0]).toMatchObject({ provider: 'relay', outcome: 'unavailable' });
  });

  test('a bad key (401) on the relay from the start: official takes the series', async () => {
    const input = seriesInput(h.sim.url, {}, 2);
    const result = await runUnder({ contracts: { 'relay-v1': { down: { status: 401 } } } }, input);
    expect(result.status).toBe('completed');
    expect(result.scenes.every((s) => s.provider === 'official')).toBe(true);
  });

  test('the official route disappears (404) mid-series after N seconds: the relay keeps going', async () => {
    const input = { ...seriesInput(h.sim.url, { routing: 'stability' }, 8), maxParallel: 1 };
    const result = await runUnder({ contracts: { official: { down: { status: 404, afterSeconds: 3 } } } }, input);
    expect(result.status).toBe('completed');
    const providers = result.scenes.map((s) => s.provider);
    expect(providers[0]).toBe('official');
    expect(providers[7]).toBe('relay');
  });

  test('a rejected scene can fail the series when the spec says so', async () => {
    const input = { ...seriesInput(h.sim.url, {}, 2), onRejection: 'fail' as const };
    input.scenes[0].prompt = '@character does something FORBIDDEN';
    const result = await runUnder({ rejectWord: 'FORBIDDEN' }, input);
    expect(result.status).toBe('failed');
    expect(result.scenes.map((s) => s.status)).toEqual(['rejected', 'completed']);
  });
});
