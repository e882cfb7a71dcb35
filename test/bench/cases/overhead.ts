/**
 * overhead: many scenes across many series against an upstream that answers at once, so what is
 * left is the orchestrator's own cost; beside it, on the same server, the same shape of work done
 * by no-op workflows (same window, same number of activities per scene and per series, counted
 * from the real run's histories), which is Temporal's floor for that work.
 */
import { providerSlotsWorkflowId } from '../../../workflows/ids';
import { slotsQuery } from '../../../workflows/provider-slots';
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
  const firstChild = events.findIndex(
    (e) => e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  );
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

export async function overheadCase(
  stack: BenchStack,
  config: BenchConfig,
): Promise<{ result: OverheadResult; info: Record<string, number> }> {
  const { series: count, scenesPerSeries, concurrency, rounds } = config.overhead;
  const sim = stack.simulators.get(OVERHEAD_SIMULATOR)!;
  const chunk = count * scenesPerSeries;
  const tag = `${Date.now().toString(36)}-${process.pid}`;
  let shape: Omit<NoopSeriesInput, 'scenes' | 'window'> | undefined;

  // CPU of each process: where the orchestration cost lands (worker, server, this process with the simulators).
  const cpu = () => ({
    real: cpuSeconds(stack.worker('overhead').pid),
    noop: cpuSeconds(stack.worker('noop').pid),
    server: cpuSeconds(stack.serverPid),
    bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  });
  const totals = {
    real: { seconds: 0, scenes: 0, worker: 0, server: 0, bench: 0 },
    noop: { seconds: 0, scenes: 0, worker: 0, server: 0, bench: 0 },
  };

  const runReal = async () => {
    const runs = await Promise.all(
      Array.from({ length: count }, () =>
        startBenchSeries(
          stack.client,
          stack.worker('overhead').taskQueue,
          benchSeriesInput({
            label: 'overhead',
            provider: OVERHEAD_PROVIDER,
            scenes: scenesPerSeries,
            maxParallel: concurrency,
            clipUrl: `${sim.url}/clips/mira.mp4`,
          }),
        ),
      ),
    );
    await Promise.all(runs.map(completed));
    shape ??= await activityShape(stack, runs[0].workflowId);
  };
  let noopRound = 0;
  const runNoop = async () => {
    const round = noopRound++;
    const handles = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        stack.client.workflow.start('noopSeriesWorkflow', {
          workflowId: `bench-noop-${tag}-${round}-${i}`,
          taskQueue: stack.worker('noop').taskQueue,
          args: [{ scenes: scenesPerSeries, window: concurrency, ...shape! } satisfies NoopSeriesInput],
        }),
      ),
    );
    const done = await Promise.all(handles.map((h) => h.result() as Promise<number>));
    if (done.some((n) => n !== scenesPerSeries))
      throw new Error(`no-op series ran ${done.join(', ')} scenes, expected ${scenesPerSeries} each`);
  };

  // Alternating halves (real, noop, noop, real, ...): a machine whose load drifts during the case
  // weighs on both sides alike. The first half is real: the no-op shape is counted from its histories.
  const order = Array.from({ length: rounds }, (_, r) =>
    r % 2 === 0 ? (['real', 'noop'] as const) : (['noop', 'real'] as const),
  ).flat();
  for (const kind of order) {
    const before = cpu();
    const started = performance.now();
    await (kind === 'real' ? runReal() : runNoop());
    const after = cpu();
    const t = totals[kind];
    t.seconds += (performance.now() - started) / 1000;
    t.scenes += chunk;
    t.worker += after[kind] - before[kind];
    t.server += after.server - before.server;
    t.bench += after.bench - before.bench;
  }

  const perScene = (t: (typeof totals)['real']) => ({
    workerCpuMsPerScene: (t.worker * 1000) / t.scenes,
    serverCpuMsPerScene: (t.server * 1000) / t.scenes,
    benchCpuMsPerScene: (t.bench * 1000) / t.scenes,
  });
  // The shared limit's cost in messages: grants (each an ask, a grant and later a release) and reclaims per scene.
  const limiter = await stack.client.workflow
    .getHandle(providerSlotsWorkflowId(stack.worker('overhead').taskQueue, OVERHEAD_PROVIDER))
    .query(slotsQuery)
    .catch(() => undefined);
  const scenesPerSecond = totals.real.scenes / totals.real.seconds;
  const noopScenesPerSecond = totals.noop.scenes / totals.noop.seconds;
  return {
    result: { scenesPerSecond, noopScenesPerSecond, ratioToNoop: scenesPerSecond / noopScenesPerSecond },
    info: {
      scenesEach: totals.real.scenes,
      seriesPerHalf: count,
      halves: order.length,
      window: concurrency,
      realSeconds: totals.real.seconds,
      limiterGrantsPerScene: limiter ? limiter.granted / totals.real.scenes : NaN,
      limiterReclaimsPerScene: limiter ? (limiter.reclaimed ?? 0) / totals.real.scenes : NaN,
      noopSeconds: totals.noop.seconds,
      ...shape,
      ...prefixed('real.', perScene(totals.real)),
      ...prefixed('noop.', perScene(totals.noop)),
    },
  };
}
