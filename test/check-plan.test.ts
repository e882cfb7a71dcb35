import { nextCheckDelayMs, type CheckSample } from '../activities/check-plan';

/** The simulator's progress curve: a tenth of the job queued at 0 %, then linear to 99 %, 100 % when done. */
const progressAt = (t: number, length: number) =>
  t >= length ? 100 : t < length * 0.1 ? 0 : Math.min(99, Math.floor(((t / length - 0.1) / 0.9) * 100));

/** Follows the plan for one job: how many checks it makes and how late the last one is after the end. */
function follow(
  length: number,
  options: { expectedMs: number; minMs: number; progress?: boolean; webhooks?: boolean },
) {
  const base = { expectedMs: options.expectedMs, minMs: options.minMs, webhooks: options.webhooks ?? false };
  let t = nextCheckDelayMs({ ...base, elapsedMs: 0 });
  let previous: CheckSample | undefined;
  for (let checks = 1; checks <= 100; checks++) {
    const progress = options.progress === false ? (t >= length ? 100 : 0) : progressAt(t, length);
    if (progress === 100) return { checks, lateMs: t - length };
    const now = { elapsedMs: t, progress };
    t += nextCheckDelayMs({ ...base, elapsedMs: t, now, ...(previous ? { previous } : {}) });
    previous = now;
  }
  throw new Error(`a ${length} ms job was never found done`);
}

const MINUTE = 60_000;

describe('when a job is checked', () => {
  test('a job that reports progress: at most 10 checks and noticed within max(1 s, 5 %) from 0.8x to 10x the expected length', () => {
    const misses: string[] = [];
    for (const expectedMs of [2_000, 2 * MINUTE]) {
      for (let length = 0.8 * expectedMs; length <= 10 * expectedMs; length *= 1.13) {
        const { checks, lateMs } = follow(length, { expectedMs, minMs: 1_000 });
        if (checks > 10 || lateMs > Math.max(1_000, 0.05 * length))
          misses.push(`expected ${expectedMs} ms, job ${Math.round(length)} ms: ${checks} checks, ${lateMs} ms late`);
      }
    }
    expect(misses).toEqual([]);
  });

  test('a job without progress: at most 10 checks up to 4x the expected length, each wait at most a quarter of the time waited', () => {
    for (let length = 0.8 * MINUTE; length <= 4 * MINUTE; length *= 1.1) {
      const { checks, lateMs } = follow(length, { expectedMs: MINUTE, minMs: 1_000, progress: false });
      expect(checks).toBeLessThanOrEqual(10);
      expect(lateMs).toBeLessThanOrEqual(0.25 * length + 1_000);
    }
  });

  test('the first check waits for most of the expected length; with webhooks, for longer than it', () => {
    expect(nextCheckDelayMs({ elapsedMs: 0, expectedMs: 2 * MINUTE, minMs: 1_000, webhooks: false })).toBe(96_000);
    expect(nextCheckDelayMs({ elapsedMs: 0, expectedMs: 2 * MINUTE, minMs: 1_000, webhooks: true })).toBe(180_000);
    // Nothing to wait for when the expected length is under the shortest wait: check at once.
    expect(nextCheckDelayMs({ elapsedMs: 0, expectedMs: 100, minMs: 1_000, webhooks: false })).toBe(0);
  });

  test('a webhook-backed job that lost its webhook is still found, with few checks', () => {
    const { checks, lateMs } = follow(2 * MINUTE, { expectedMs: 2 * MINUTE, minMs: 1_000, webhooks: true });
    expect(checks).toBe(1);
    expect(lateMs).toBe(MINUTE);
  });

  test('a stalled job (no progress between checks) is checked ever less often, never more often than the shortest wait', () => {
    const stalled = { elapsedMs: 10 * MINUTE, progress: 99 };
    const delay = nextCheckDelayMs({
      elapsedMs: 10 * MINUTE,
      expectedMs: 2 * MINUTE,
      minMs: 1_000,
      webhooks: false,
      now: stalled,
      previous: { elapsedMs: 9 * MINUTE, progress: 99 },
    });
    expect(delay).toBeGreaterThanOrEqual(1_000);
    expect(delay).toBeLessThanOrEqual(0.5 * 10 * MINUTE);
  });
});
