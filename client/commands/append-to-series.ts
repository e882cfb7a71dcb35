import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { seriesWorkflowId } from '../../workflows/ids';
import { appendScenes, type AppendOptions } from '../series/steering';

/** A series that already ended is not restarted by an append: signal-with-start would run its spec again. */
export class SeriesEndedError extends Error {
  constructor(
    readonly workflowId: string,
    ended: string,
  ) {
    super(
      `${workflowId} already ended (${ended}); appending would start it again from the spec: give a new name with --id`,
    );
    this.name = 'SeriesEndedError';
  }
}

export interface Appended {
  workflowId: string;
  /** Whether this call started the series. */
  started: boolean;
  scenes: number;
}

/** `sora-series append`: signal-with-start, refused for a series that already ended. */
export async function appendToSeries(client: Client, options: AppendOptions): Promise<Appended> {
  const workflowId = options.workflowId ?? seriesWorkflowId(options.input.name);
  const before = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      (d) => d.status.name,
      (err) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      },
    );
  if (before !== undefined && before !== 'RUNNING') throw new SeriesEndedError(workflowId, before.toLowerCase());
  const sent = await appendScenes(client, { ...options, workflowId });
  return { workflowId: sent.workflowId, started: before === undefined, scenes: options.scenes.length };
}

export function formatAppended(a: Appended): string {
  return a.started
    ? `started ${a.workflowId} (streaming) with ${a.scenes} appended scene(s); send more with append, and end-scenes when no more will come`
    : `appended ${a.scenes} scene(s) to ${a.workflowId}; scenes that fail the series' checks are listed under refusedScenes in status --json`;
}
