/**
 * overhead: many scenes across many series against an upstream that answers at once, so what is
 * left is the orchestrator's own cost; beside it, on the same server, the same shape of work done
 * by no-op workflows (same window, same number of activities per scene and per series, counted
 * from the real run's histories), which is Temporal's floor for that work.
 */
import { temporal } from '@temporalio/proto';
import type { BenchConfig } from '../config';
import { activitiesScheduled, historyOf } from '../histories';
import { cpuSeconds } from '../processes';
import { prefixed } from '../profile';
import type { NoopSeriesInput } from '../noop-workflows';
import { benchSeriesInput, completed, sceneWorkflowId, startBenchSeries } from '../series';
import type { BenchStack } from '../stack';

export interface OverheadResult {
  scenesPerSecond: number;
  noopScenesPerSecond: number;
  ratioToNoop: number;
}

export const OVERHEAD_SIMULATOR = 'overhead';
export const OVERHEAD_PROVIDER = 'fast';
const EventType = temporal.api.enums.v1.EventType;

/** How many activities a real series runs before its first scene and after its last one. */
async function activityShape(stack: BenchStack, seriesId: string): Promise<Omit<NoopSeriesInput, 'scenes' | 'window'>> {
  const events = await historyOf(stack.client, seriesId);
  const firstChild = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
  let lastChild = -1;
  events.forEach((e, i) => {
    if (e.eventType === EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED) lastChild = i;
  });
  const scene = await historyOf(stack.client, sceneWorkflowId(seriesId, 1));
  return {
    sceneActivities: activitiesScheduled(scene),
    activitiesBefore: activitiesScheduled(events.slice(0, firstChild)),
    activitiesAfter: activitiesScheduled(events.slice(lastChild + 1)),
  };
}

export async function overheadCase(stack: BenchStack, config: BenchConfig): Promise<{ result: OverheadResult; info: Record<string, number> }> {
  const { series: count, scenesPerSeries, concurrency } = config.overhead;
  const sim = stack.simulators.get(OVERHEAD_SIMULATOR)!;
  const scenes = count * scenesPerSeries;

  // CPU per scene of each process during each half: where the orchestration cost lands.
  const cpu = () => ({
    real: cpuSeconds(stack.worker('overhead').pid),
    noop: cpuSeconds(stack.worker('noop').pid),
    server: cpuSeconds(stack.serverPid),
    bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  });
  const perScene = (a: ReturnType<typeof cpu>, b: ReturnType<typeof cpu>, worker: 'real' | 'noop') => ({
    workerCpuMsPerScene: ((b[worker] - a[worker]) * 1000) / scenes,
    serverCpuMsPerScene: ((b.server - a.server) * 1000) / scenes,
    benchCpuMsPerScene: ((b.bench - a.bench) * 1000) / scenes,
  });
  const cpuAtStart = cpu();
  const realStarted = performance.now();
  const runs = await Promise.all(
    Array.from({ length: count }, () =>
      startBenchSeries(stack.client, stack.worker('overhead').taskQueue, benchSeriesInput({ label: 'overhead', provider: OVERHEAD_PROVIDER, scenes: scenesPerSeries, maxParallel: concurrency, clipUrl: `${sim.url}/clips/mira.mp4` })),
    ),
  );
  await Promise.all(runs.map(completed));
  const realSeconds = (performance.now() - realStarted) / 1000;
  const cpuAfterReal = cpu();

  const shape = await activityShape(stack, runs[0].workflowId);
  const noopQueue = stack.worker('noop').taskQueue;
  const tag = `${Date.now().toString(36)}-${process.pid}`;
  const noopStarted = performance.now();
  const noops = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      stack.client.workflow.start('noopSeriesWorkflow', {
        workflowId: `bench-noop-${tag}-${i}`,
        taskQueue: noopQueue,
        args: [{ scenes: scenesPerSeries, window: concurrency, ...shape } satisfies NoopSeriesInput],
      }),
    ),
  );
  const done = await Promise.all(noops.map((h) => h.result() as Promise<number>));
  const noopSeconds = (performance.now() - noopStarted) / 1000;
  const cpuAfterNoop = cpu();
  if (done.some((n) => n !== scenesPerSeries)) throw new Error(`no-op series ran ${done.join(', ')} scenes, expected ${scenesPerSeries} each`);

  const scenesPerSecond = scenes / realSeconds;
  const noopScenesPerSecond = scenes / noopSeconds;
  return {
    result: { scenesPerSecond, noopScenesPerSecond, ratioToNoop: scenesPerSecond / noopScenesPerSecond },
    info: {
      scenes,
      series: count,
      window: concurrency,
      realSeconds,
      noopSeconds,
      ...shape,
      ...prefixed('real.', perScene(cpuAtStart, cpuAfterReal, 'real')),
      ...prefixed('noop.', perScene(cpuAfterReal, cpuAfterNoop, 'noop')),
    },
  };
}
