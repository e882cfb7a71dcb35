import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { activityLogger, type ActivityDeps } from './deps';
import { writeJsonAtomically } from './storage';
import { seriesWorkflowId } from '../workflows/ids';
import type { SeriesResult } from '../workflows/types';

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
    const totals = {
      scenes: input.scenes.length,
      completed: input.scenes.filter((s) => s.status === 'completed').length,
      rejected: input.scenes.filter((s) => s.status === 'rejected').length,
      failed: input.scenes.filter((s) => s.status === 'failed').length,
      takes: input.scenes.reduce((n, s) => n + s.takes.length, 0),
      costUsd: input.costUsd,
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

  return { writeManifest };
}
