import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { NewScene } from '../../workflows/messages';
import type { ProviderProfile, SeriesInput } from '../../workflows/types';
import { appendScenes } from '../series/steering';
import { seriesWorkflowId } from '../../workflows/ids';

/**
 * What the message commands print, built on client/series/steering.ts (the one place messages are
 * sent). Signals are fire-and-forget, so their lines say what was sent and what follows;
 * updates answer, so theirs show the answer.
 */

export const SIGNAL_EFFECTS = {
  pause: 'it starts no new scenes or takes until resumed; running jobs go on',
  resume: 'it starts scenes and takes again',
  cancel: 'no new submissions; running jobs finish, are stored and paid, then the series ends cancelled',
  endOfScenes: 'the streaming series ends once its scenes are done',
} as const;

export const signalSent = (what: keyof typeof SIGNAL_EFFECTS, id: string) =>
  `${what} sent to ${id}: ${SIGNAL_EFFECTS[what]}`;

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

/** Appends by signal-with-start; says whether this call started the series. */
export async function appendToSeries(
  client: Client,
  options: {
    input: SeriesInput;
    scenes: NewScene[];
    taskQueue: string;
    workflowId?: string;
    profiles: ProviderProfile[];
  },
): Promise<{ workflowId: string; started: boolean; scenes: number }> {
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

export function formatAppended(a: { workflowId: string; started: boolean; scenes: number }): string {
  return a.started
    ? `started ${a.workflowId} (streaming) with ${a.scenes} appended scene(s); send more with append, and end-scenes when no more will come`
    : `appended ${a.scenes} scene(s) to ${a.workflowId}; scenes that fail the series' checks are listed under refusedScenes in status --json`;
}
