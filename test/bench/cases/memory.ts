/**
 * memory: one worker process holding at least 1,000 scenes in flight at once (several series, each
 * a wide window, jobs that outlast the ramp-up). Scenes in flight are counted at the upstream
 * (jobs accepted and not finished, one per waiting scene); the worker's resident memory is read
 * from /proc while they are, and its peak reported. The series are terminated afterwards.
 */
import type { BenchConfig } from '../config';
import { sleep } from '../processes';
import { benchSeriesInput, startBenchSeries } from '../series';
import type { BenchStack } from '../stack';

export interface MemoryResult {
  inflightScenes: number;
  workerRssMb: number;
}

export const MEMORY_SIMULATOR = 'memory';
export const MEMORY_PROVIDER = 'wide';
const SAMPLE_MS = 500;
/** The ramp has stalled when no further scene got in flight for this long: the worker holds no more. */
const STALL_MS = 30_000;

/** The worker role with the SDK's own workflow cache size (the shipped default is measured against it). */
export const MEMORY_SDK_CACHE_ROLE = 'memory-sdk-cache';

export async function memoryCase(
  stack: BenchStack,
  config: BenchConfig,
  role = 'memory',
): Promise<{ result: MemoryResult; info: Record<string, number>; notes: string[] }> {
  const { series: count, scenesPerSeries, holdSeconds, rampTimeoutSeconds } = config.memory;
  const target = count * scenesPerSeries;
  const sim = stack.simulators.get(MEMORY_SIMULATOR)!;
  const worker = stack.worker(role);
  const rssBefore = worker.rssMb() ?? NaN;
  // Only this run's jobs: an earlier run's terminated series leave theirs running on the simulator.
  const earlier = sim.ledger().length;
  const inflight = () =>
    sim
      .ledger()
      .slice(earlier)
      .filter((e) => e.status === 'queued' || e.status === 'running').length;

  let peakInflight = 0;
  let peakRss = 0;
  const sample = () => {
    peakInflight = Math.max(peakInflight, inflight());
    peakRss = Math.max(peakRss, worker.rssMb() ?? 0);
  };

  const started = performance.now();
  const runs = await Promise.all(
    Array.from({ length: count }, () =>
      startBenchSeries(
        stack.client,
        worker.taskQueue,
        benchSeriesInput({
          label: 'memory',
          provider: MEMORY_PROVIDER,
          scenes: scenesPerSeries,
          maxParallel: scenesPerSeries,
          clipUrl: `${sim.url}/clips/mira.mp4`,
        }),
      ),
    ),
  );
  const deadline = started + rampTimeoutSeconds * 1000;
  let grewAt = performance.now();
  let stalled = false;
  while (inflight() < target && performance.now() < deadline) {
    const before = peakInflight;
    sample();
    if (peakInflight > before) grewAt = performance.now();
    if (performance.now() - grewAt > STALL_MS) {
      stalled = true;
      break;
    }
    await sleep(SAMPLE_MS);
  }
  const rampSeconds = (performance.now() - started) / 1000;
  const holdUntil = performance.now() + holdSeconds * 1000;
  while (performance.now() < holdUntil) {
    sample();
    await sleep(SAMPLE_MS);
  }
  sample();
  await Promise.all(runs.map((r) => r.handle.terminate('bench: memory measured').catch(() => undefined)));
  const notes = stalled
    ? [
        `${role}: scenes in flight stopped growing at ${peakInflight} of ${target} (nothing new for ${STALL_MS / 1000} s): the worker takes no more`,
      ]
    : [];
  return {
    notes,
    result: { inflightScenes: peakInflight, workerRssMb: peakRss },
    info: { target, rampSeconds, stalled: stalled ? 1 : 0, rssBeforeMb: rssBefore, series: count },
  };
}
