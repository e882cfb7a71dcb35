import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { activityLogger, type ActivityDeps } from './deps';
import { writeJsonAtomically } from './storage';
import { seriesWorkflowId } from '../workflows/ids';
import { roundUsd } from '../workflows/pricing';
import type { EpisodeFiles, SeriesResult } from '../workflows/types';
import { uncertainOfScenes } from '../workflows/uncertain-submissions';

export type ManifestInput = Omit<SeriesResult, 'manifestPath'>;

/** File-system-safe manifest name for a series workflow id (`series/<name>` holds a slash). */
export function manifestFileName(workflowId: string): string {
  return `${workflowId.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`;
}

export function manifestActivities(deps: ActivityDeps) {
  const dir = join(deps.dataDir, 'manifests');

  /** The series' deliverable: every scene's asset, hash, provider, takes and cost, plus totals. */
  async function writeManifest(input: ManifestInput): Promise<string> {
    await mkdir(dir, { recursive: true });
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? seriesWorkflowId(input.name);
    const path = join(dir, manifestFileName(workflowId));
    const uncertain = uncertainOfScenes(input.scenes);
    const totals = {
      scenes: input.scenes.length,
      completed: input.scenes.filter((s) => s.status === 'completed').length,
      rejected: input.scenes.filter((s) => s.status === 'rejected').length,
      failed: input.scenes.filter((s) => s.status === 'failed').length,
      takes: input.scenes.reduce((n, s) => n + s.takes.length, 0),
      costUsd: input.costUsd,
      // Takes whose submit may have been billed without a job (their `uncertain` says why): never hidden.
      uncertainSubmissions: uncertain.count,
      uncertainUsd: uncertain.usd,
      mayHavePaidUsd: roundUsd(input.costUsd + uncertain.usd),
    };
    await writeJsonAtomically(path, {
      ...input,
      workflowId,
      manifestPath: path,
      totals,
      writtenAt: new Date().toISOString(),
    });
    activityLogger(deps).info({ path }, 'manifest written');
    return path;
  }

  /**
   * An episode cut after its series ended goes into the manifest, if it is the cut of the manifest's
   * own scenes (a finished series' takes no longer change). Returns whether it was recorded.
   */
  async function recordEpisode(input: { seriesId: string; files: EpisodeFiles }): Promise<boolean> {
    const path = join(dir, manifestFileName(input.seriesId));
    const manifest = await readFile(path, 'utf8').then(
      (text) => JSON.parse(text) as Record<string, unknown> & Pick<SeriesResult, 'scenes'>,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined; // still running: the series records its own cut as it ends
        throw err;
      },
    );
    const cutOf = (scenes: Array<{ index: number; sha256?: string }>) =>
      JSON.stringify(scenes.map((s) => [s.index, s.sha256]));
    const chosen = manifest?.scenes.filter((s) => s.status === 'completed' && s.sha256) ?? [];
    if (!manifest || cutOf(chosen) !== cutOf(input.files.episode.scenes)) return false;
    const { episodeError: _error, ...kept } = manifest;
    await writeJsonAtomically(path, { ...kept, ...input.files });
    activityLogger(deps).info({ path, episode: input.files.episode.path }, 'episode recorded in the manifest');
    return true;
  }

  return { writeManifest, recordEpisode };
}
