import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import {
  EPISODE_ID_REUSE,
  episodeRequestOf,
  episodeWorkflowIdOf,
  NothingToCutError,
} from '../../workflows/episode-request';
import type { episodeWorkflow } from '../../workflows/episode';
import { EPISODE_WORKFLOW_TYPE, seriesStatusQuery } from '../../workflows/messages';
import type { EpisodeFiles, SceneResult } from '../../workflows/types';
import { describeSeries, rootCause } from './series-client';

/** The cut's workflow failed (a take's file changed, the join did not verify): asking again makes a new attempt. */
export class EpisodeCutFailedError extends Error {
  constructor(
    readonly workflowId: string,
    readonly reason: string,
  ) {
    super(`the cut ${workflowId} failed: ${reason}; a failed cut is made anew when asked again`);
    this.name = 'EpisodeCutFailedError';
  }
}

/** What `cut` answers: the episode workflow that made the files, and the files. */
export interface CutEpisode extends EpisodeFiles {
  /** The episode workflow's id: `<series id>/episode-<cut key>`. */
  id: string;
  seriesId: string;
}

/** A running series' scenes from its status; a finished one's from its result (or, ended otherwise, its last status). */
async function scenesOf(client: Client, seriesId: string): Promise<{ scenes: SceneResult[]; taskQueue: string }> {
  const { handle, description } = await describeSeries(client, seriesId);
  const scenes =
    description.status.name === 'COMPLETED'
      ? (await handle.result()).scenes
      : (await handle.query(seriesStatusQuery)).scenes;
  return { scenes, taskQueue: description.taskQueue };
}

/**
 * Cuts the series' episode from its chosen takes as they stand now: starts the episode workflow
 * of exactly those takes, or finds it (made by the series as it ended, or by an earlier `cut`) and
 * answers its files. A series with no completed take yet is a NothingToCutError, a cut that fails an
 * EpisodeCutFailedError.
 */
export async function cutEpisode(client: Client, seriesId: string): Promise<CutEpisode> {
  const { scenes, taskQueue } = await scenesOf(client, seriesId);
  const request = episodeRequestOf(seriesId, scenes);
  if (!request.scenes.length) throw new NothingToCutError(seriesId);
  const id = episodeWorkflowIdOf(request);
  let handle = client.workflow.getHandle<typeof episodeWorkflow>(id);
  try {
    handle = await client.workflow.start<typeof episodeWorkflow>(EPISODE_WORKFLOW_TYPE, {
      workflowId: id,
      taskQueue,
      args: [request],
      workflowIdReusePolicy: EPISODE_ID_REUSE,
      // Cut or being cut right now: wait for that one.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `episode of ${seriesId}: ${request.scenes.length} scenes (on demand)`,
    });
  } catch (err) {
    // Cut already: its result is these takes' episode.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  const files = await handle.result().catch((err: Error) => {
    throw err instanceof WorkflowFailedError ? new EpisodeCutFailedError(id, rootCause(err).message) : err;
  });
  return { id, seriesId, ...files };
}
