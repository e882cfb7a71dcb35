/**
 * Sizes of every bench case: the full run the issue asks for, and a smoke run that exercises the
 * same code paths in well under a minute (its numbers mean nothing; only its shape is checked).
 */

export interface BenchConfig {
  smoke: boolean;
  seed: number;
  latency: {
    scenes: number;
    /** Provider concurrency C (the relay's maxConcurrency in the bench's provider config). */
    concurrency: number;
    /** Simulated upstream time L per job, seconds. */
    jobSeconds: number;
    jitter: number;
    /**
     * What L stands for in the real world. Upstream-side waits are scaled by jobSeconds / realJobSeconds:
     * the plain script's 5 s poll and the worker's 1 s default poll alike.
     */
    realJobSeconds: number;
  };
  /** Each half runs `series` series of `scenesPerSeries` scenes; `rounds` of (real, no-op) halves, alternating. */
  overhead: { series: number; scenesPerSeries: number; concurrency: number; rounds: number };
  history: {
    shortSeconds: number;
    longSeconds: number;
    smallSeries: number;
    largeSeries: number;
    largeConcurrency: number;
    /** Unset: the product's own continue-as-new threshold; the smoke run sets a small one to reach it. */
    scenesPerRun?: number;
  };
  notice: {
    scenes: number;
    concurrency: number;
    jobSeconds: number;
    jitter: number;
    pollMs: number;
    webhookWorkerPollMs: number;
    /** Polling only at a long job length (standing for minutes): notice delay and status calls per job. */
    longScenes: number;
    longJobSeconds: number;
    longJitter: number;
  };
  /** `expectedJobSeconds`: the memory provider's profile, so checks run while scenes are held in flight. */
  memory: {
    series: number;
    scenesPerSeries: number;
    holdSeconds: number;
    rampTimeoutSeconds: number;
    expectedJobSeconds: number;
  };
  /** `checkLatencyMs`: each status check takes this long, so the kill cuts checks in flight. */
  recovery: { scenes: number; jobSeconds: number; checkLatencyMs: number };
}

/** The founding document's client polls every 5 s; the product's worker every second by default. */
export const PLAIN_SCRIPT_POLL_SECONDS = 5;
export const PRODUCT_DEFAULT_POLL_MS = 1000;

export const FULL: BenchConfig = {
  smoke: false,
  seed: 20261126,
  latency: { scenes: 24, concurrency: 4, jobSeconds: 10, jitter: 0.2, realJobSeconds: 120 },
  overhead: { series: 10, scenesPerSeries: 10, concurrency: 4, rounds: 2 },
  history: { shortSeconds: 1, longSeconds: 30, smallSeries: 40, largeSeries: 1000, largeConcurrency: 20 },
  notice: {
    scenes: 24,
    concurrency: 4,
    jobSeconds: 2,
    jitter: 0.5,
    pollMs: PRODUCT_DEFAULT_POLL_MS,
    webhookWorkerPollMs: PRODUCT_DEFAULT_POLL_MS,
    longScenes: 8,
    longJobSeconds: 60,
    longJitter: 0.2,
  },
  memory: { series: 10, scenesPerSeries: 100, holdSeconds: 20, rampTimeoutSeconds: 300, expectedJobSeconds: 20 },
  recovery: { scenes: 8, jobSeconds: 25, checkLatencyMs: 2_000 },
};

export const SMOKE: BenchConfig = {
  smoke: true,
  seed: 7,
  latency: { scenes: 4, concurrency: 2, jobSeconds: 1, jitter: 0.2, realJobSeconds: 120 },
  overhead: { series: 2, scenesPerSeries: 3, concurrency: 2, rounds: 1 },
  history: { shortSeconds: 1, longSeconds: 2, smallSeries: 3, largeSeries: 9, largeConcurrency: 3, scenesPerRun: 4 },
  notice: {
    scenes: 3,
    concurrency: 3,
    jobSeconds: 1,
    jitter: 0.5,
    pollMs: 200,
    webhookWorkerPollMs: 200,
    longScenes: 2,
    longJobSeconds: 2,
    longJitter: 0.2,
  },
  memory: { series: 2, scenesPerSeries: 3, holdSeconds: 1, rampTimeoutSeconds: 60, expectedJobSeconds: 20 },
  recovery: { scenes: 2, jobSeconds: 14, checkLatencyMs: 1_000 },
};

/** The worker's poll interval for the latency case: the product default, scaled like L. */
export function latencyPollMs(config: BenchConfig): number {
  return Math.max(
    50,
    Math.round(PRODUCT_DEFAULT_POLL_MS * (config.latency.jobSeconds / config.latency.realJobSeconds)),
  );
}

/** The plain script's poll interval: the founding client's 5 s, scaled like L. */
export function plainPollMs(config: BenchConfig): number {
  return Math.round(PLAIN_SCRIPT_POLL_SECONDS * 1000 * (config.latency.jobSeconds / config.latency.realJobSeconds));
}
