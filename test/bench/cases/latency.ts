/**
 * latency: a 24-scene series against an upstream that takes L seconds a job (with jitter) and
 * runs C jobs at once, beside the plain sequential script doing the same scenes. Both run at the
 * same time, each against a simulator built with the same seed, so both get exactly the same
 * sequence of job durations.
 */
import { SIMULATOR_KEYS } from '../../../client/stack/dev-stack';
import { latencyPollMs, plainPollMs, type BenchConfig } from '../config';
import { runPlainScript } from '../plain-script';
import { prefixed, profileSeries } from '../profile';
import { benchSeriesInput, completed, startBenchSeries } from '../series';
import type { BenchStack } from '../stack';

export interface LatencyResult {
  idealSeconds: number;
  measuredSeconds: number;
  ratioToIdeal: number;
  plainScriptSeconds: number;
  speedupVsPlainScript: number;
}

export const LATENCY_SIMULATOR = 'latency';
export const PLAIN_SIMULATOR = 'plain';
export const LATENCY_PROVIDER = 'relay';

export async function latencyCase(
  stack: BenchStack,
  config: BenchConfig,
  options: { plain: boolean } = { plain: true },
): Promise<{ result: LatencyResult; info: Record<string, number> }> {
  const { scenes, concurrency, jobSeconds } = config.latency;
  const sim = stack.simulators.get(LATENCY_SIMULATOR)!;
  const plainSim = stack.simulators.get(PLAIN_SIMULATOR)!;
  const worker = stack.worker('latency');
  const input = benchSeriesInput({
    label: 'latency',
    provider: LATENCY_PROVIDER,
    scenes,
    clipUrl: `${sim.url}/clips/mira.mp4`,
  });

  const seriesRun = (async () => {
    const started = performance.now();
    const series = await startBenchSeries(stack.client, worker.taskQueue, input);
    await completed(series);
    return { seconds: (performance.now() - started) / 1000, series };
  })();
  const plainRun = !options.plain
    ? Promise.resolve({ seconds: NaN, characterSeconds: 0, videos: scenes })
    : runPlainScript({
        relayBaseUrl: plainSim.relayBaseUrl,
        key: SIMULATOR_KEYS.SORA_RELAY_KEY,
        clipUrl: `${plainSim.url}/clips/mira.mp4`,
        scenes,
        pollMs: plainPollMs(config),
      });
  const [{ seconds: measuredSeconds, series }, plain] = await Promise.all([seriesRun, plainRun]);
  if (plain.videos !== scenes) throw new Error(`the plain script made ${plain.videos} of ${scenes} videos`);

  // The upstream's own floor: its character creation (the plain script's call), then the scenes C at a time.
  const idealSeconds = plain.characterSeconds + Math.ceil(scenes / concurrency) * jobSeconds;
  return {
    result: {
      idealSeconds,
      measuredSeconds,
      ratioToIdeal: measuredSeconds / idealSeconds,
      plainScriptSeconds: plain.seconds,
      speedupVsPlainScript: plain.seconds / measuredSeconds,
    },
    info: {
      jobSeconds,
      concurrency,
      workerPollMs: stack.pollMsOf('latency'),
      plainPollMs: plainPollMs(config),
      scaledWorkerPollMs: latencyPollMs(config),
      ...prefixed('profile.', await profileSeries(stack.client, series.workflowId, sim, concurrency)),
    },
  };
}
