import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, log, patched, rootCause } from '@temporalio/workflow';
import { transfers } from '../activities';
import { episodeWorkflow } from '../episode';
import { EPISODE_ID_REUSE, episodeRequestOf, episodeWorkflowIdOf } from '../episode-request';
import type { EpisodeFiles, EpisodeRequest, SceneResult, SeriesStatus } from '../types';

/** Patch: a series that ends with completed scenes cuts its episode before writing the manifest (runs without it never did). */
const EPISODE_AT_END = 'episode-at-end';

/** Ends that deliver scenes: a failed series is left to an on-demand cut. */
const CUT_WHEN: readonly SeriesStatus[] = ['completed', 'completed_with_rejections', 'cancelled'];

export type EndCut = { files: EpisodeFiles } | { error: string } | undefined;

/**
 * The episode of a series as it ends: its chosen takes cut as a child (the same workflow id an
 * on-demand cut of these takes has). A failed cut is reported, not fatal: the scenes are delivered.
 */
export async function cutAtEnd(seriesId: string, scenes: SceneResult[], ended: SeriesStatus): Promise<EndCut> {
  const request = episodeRequestOf(seriesId, scenes);
  if (!request.scenes.length || !CUT_WHEN.includes(ended) || !patched(EPISODE_AT_END)) return undefined;
  try {
    return { files: await cut(request) };
  } catch (err) {
    // The innermost cause says what went wrong ("scene 2: ..."), not "Child Workflow execution failed".
    const error = rootCause(err) ?? String(err);
    log.warn('episode not cut', { error });
    return { error };
  }
}

async function cut(request: EpisodeRequest): Promise<EpisodeFiles> {
  try {
    return await executeChild(episodeWorkflow, {
      workflowId: episodeWorkflowIdOf(request),
      args: [request],
      workflowIdReusePolicy: EPISODE_ID_REUSE,
      staticSummary: `episode of ${request.seriesId}: ${request.scenes.length} scenes`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // These takes were cut on demand already (or are being cut), and a workflow cannot read another's
    // result: the cut is deterministic, so the same activity here gives the same files.
    return transfers.cutEpisode(request);
  }
}
