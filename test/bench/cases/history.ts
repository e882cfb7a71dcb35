/**
 * history: events counted in real histories. One scene at a short and at a long simulated
 * generation time (waiting is one heartbeating activity, so they should match), and the parent's
 * events per scene for a small and a large series, following continue-as-new across its runs.
 * Nothing here is timed, so the four series run at once.
 */
import type { BenchConfig } from '../config';
import { eventsPerRun, historyOf } from '../histories';
import { benchSeriesInput, completed, sceneWorkflowId, startBenchSeries, type BenchSeries } from '../series';
import type { BenchStack } from '../stack';

export interface HistoryResult {
  eventsPerSceneShort: number;
  eventsPerSceneLong: number;
  parentEventsPerScene: number;
  /** The same for the small series: equal or lower `parentEventsPerScene` means it does not grow. */
  parentEventsPerSceneSmall: number;
  maxEventsPerRun: number;
}

export const HISTORY_SIMULATORS = { short: 'history-short', long: 'history-long', bulk: 'history-bulk' } as const;
export const HISTORY_PROVIDERS = { short: 'short', long: 'long', bulk: 'bulk' } as const;

export async function historyCase(
  stack: BenchStack,
  config: BenchConfig,
): Promise<{ result: HistoryResult; info: Record<string, number> }> {
  const queue = stack.worker('history').taskQueue;
  const clip = (sim: string) => `${stack.simulators.get(sim)!.url}/clips/mira.mp4`;
  const start = (label: string, provider: string, sim: string, scenes: number) =>
    startBenchSeries(
      stack.client,
      queue,
      benchSeriesInput({ label, provider, scenes, clipUrl: clip(sim), scenesPerRun: config.history.scenesPerRun }),
    );

  const started = performance.now();
  const [short, long, small, large] = await Promise.all([
    start('history-short', HISTORY_PROVIDERS.short, HISTORY_SIMULATORS.short, 1),
    start('history-long', HISTORY_PROVIDERS.long, HISTORY_SIMULATORS.long, 1),
    start('history-small', HISTORY_PROVIDERS.bulk, HISTORY_SIMULATORS.bulk, config.history.smallSeries),
    start('history-large', HISTORY_PROVIDERS.bulk, HISTORY_SIMULATORS.bulk, config.history.largeSeries),
  ]);
  await Promise.all([short, long, small, large].map(completed));
  const seconds = (performance.now() - started) / 1000;

  const sceneEvents = async (s: BenchSeries) =>
    (await historyOf(stack.client, sceneWorkflowId(s.workflowId, 1))).length;
  const [eventsPerSceneShort, eventsPerSceneLong] = await Promise.all([sceneEvents(short), sceneEvents(long)]);
  const [smallRuns, largeRuns] = await Promise.all([
    eventsPerRun(stack.client, small.workflowId),
    eventsPerRun(stack.client, large.workflowId),
  ]);
  const total = (runs: number[]) => runs.reduce((a, b) => a + b, 0);
  return {
    result: {
      eventsPerSceneShort,
      eventsPerSceneLong,
      parentEventsPerScene: total(largeRuns) / config.history.largeSeries,
      parentEventsPerSceneSmall: total(smallRuns) / config.history.smallSeries,
      maxEventsPerRun: Math.max(...largeRuns, ...smallRuns),
    },
    info: {
      shortSeconds: config.history.shortSeconds,
      longSeconds: config.history.longSeconds,
      smallScenes: config.history.smallSeries,
      largeScenes: config.history.largeSeries,
      largeRuns: largeRuns.length,
      seconds,
    },
  };
}
