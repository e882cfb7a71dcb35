/**
 * Series as users start them: a spec parsed and validated by the client library, started with
 * `startSeries` on a worker's task queue, awaited through its result.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startSeries } from '../../client/series/series-client';
import { parseSpec } from '../../client/spec/parse-spec';
import { toSeriesInput } from '../../client/spec/series-input';
import { parseAllowance } from '../../common/url-policy';
import type { seriesWorkflow } from '../../workflows/series/workflow';
import type { SeriesInput, SeriesResult } from '../../workflows/types';

let serial = 0;
const runTag = `${Date.now().toString(36)}-${process.pid}`;

export interface BenchSeries {
  handle: WorkflowHandle<typeof seriesWorkflow>;
  workflowId: string;
  input: SeriesInput;
}

export function benchSeriesInput(options: {
  label: string;
  provider: string;
  scenes: number;
  clipUrl: string;
  /** The series' own window (the provider's shared limit bounds all series together). */
  maxParallel?: number;
  scenesPerRun?: number;
}): SeriesInput {
  const spec = parseSpec(
    {
      name: `bench-${options.label}-${runTag}-${++serial}`,
      character: { name: 'Mira', description: 'a red-haired courier in a yellow raincoat', clip: options.clipUrl },
      providers: [options.provider],
      ...(options.maxParallel ? { maxParallel: options.maxParallel } : {}),
      scenes: Array.from({ length: options.scenes }, (_, i) => ({
        prompt: `@character walks the harbor wall, shot ${i + 1}`,
      })),
    },
    `bench ${options.label}`,
    { urlPolicy: parseAllowance('1') },
  );
  const input = toSeriesInput(spec);
  return options.scenesPerRun ? { ...input, scenesPerRun: options.scenesPerRun } : input;
}

export async function startBenchSeries(client: Client, taskQueue: string, input: SeriesInput): Promise<BenchSeries> {
  const handle = await startSeries(client, input, { taskQueue });
  return { handle, workflowId: handle.workflowId, input };
}

/** The result, checked: a bench number from a series that did not complete would be meaningless. */
export async function completed(series: BenchSeries): Promise<SeriesResult> {
  const result = await series.handle.result();
  const bad = result.scenes.filter((s) => s.status !== 'completed');
  if (result.status !== 'completed' || bad.length) {
    throw new Error(
      `series ${series.workflowId} ended ${result.status}: ${bad.map((s) => `scene ${s.index} ${s.status} (${s.reason ?? ''})`).join('; ')}`,
    );
  }
  return result;
}

export { sceneWorkflowId } from '../../workflows/ids';
