import type { Client } from '@temporalio/client';
import { seriesStatusQuery } from '../../workflows/messages';
import type { SceneResult, TakeRecord } from '../../workflows/types';
import { describeSeries } from '../series/series-client';
import { sceneLabel } from './run';
import { sceneProgress } from './scene-progress';

/** `sora-series takes`: every take of one scene, finished ones and the one in flight. */

export class SceneNotFoundError extends Error {
  constructor(
    readonly workflowId: string,
    readonly index: number,
    known: number[],
  ) {
    super(
      `${workflowId} has no scene ${index} yet${known.length ? ` (scenes with takes: ${known.join(', ')})` : ''}; check the index with: sora-series status ${workflowId}`,
    );
    this.name = 'SceneNotFoundError';
  }
}

export class SeriesWithoutResultError extends Error {
  constructor(
    readonly workflowId: string,
    ended: string,
  ) {
    super(
      `${workflowId} ended ${ended} without a result, so its takes are not recorded; see its history in the Temporal Web UI`,
    );
    this.name = 'SeriesWithoutResultError';
  }
}

/** A take still in flight: no outcome yet. */
export interface TakeInFlight {
  take: number;
  provider?: string;
  jobId?: string;
  outcome: 'in_flight';
  phase?: string;
  progress?: number;
}

export interface SceneTakes {
  /** The series. */
  id: string;
  index: number;
  /** The scene's id from the spec, when it has one. */
  sceneId?: string;
  status: SceneResult['status'] | 'running';
  takes: Array<TakeRecord | TakeInFlight>;
}

/** Finished scenes from the live status (running series) or the result (finished series). */
async function finishedScenes(client: Client, id: string): Promise<{ scenes: SceneResult[]; running: number[] }> {
  const { handle, description } = await describeSeries(client, id);
  if (description.status.name === 'RUNNING') {
    const view = await handle.query(seriesStatusQuery);
    return { scenes: view.scenes, running: view.running };
  }
  if (description.status.name === 'COMPLETED') return { scenes: (await handle.result()).scenes, running: [] };
  throw new SeriesWithoutResultError(id, description.status.name.toLowerCase());
}

export async function sceneTakes(client: Client, id: string, index: number): Promise<SceneTakes> {
  const { scenes, running } = await finishedScenes(client, id);
  const scene = scenes.find((s) => s.index === index);
  const takes: SceneTakes['takes'] = (scene?.takes ?? []).map((t) =>
    // The scene's asset belongs to its last completed take when the take itself does not carry it.
    scene?.assetPath && !t.assetPath && t.outcome === 'completed' && t === lastCompleted(scene)
      ? { ...t, assetPath: scene.assetPath, sha256: scene.sha256 }
      : t,
  );
  let sceneId = scene?.id;
  if (running.includes(index)) {
    // A retake or a first run in flight: its earlier takes are above, this one has no outcome yet.
    const now = await sceneProgress(client, id, index);
    sceneId ??= now.id;
    if (now.take && !takes.some((t) => t.take === now.take)) {
      takes.push({
        take: now.take,
        provider: now.provider,
        jobId: now.jobId,
        outcome: 'in_flight',
        phase: now.phase,
        progress: now.progress,
      });
    }
  }
  if (!scene && !running.includes(index))
    throw new SceneNotFoundError(
      id,
      index,
      scenes.map((s) => s.index).sort((a, b) => a - b),
    );
  return {
    id,
    index,
    ...(sceneId !== undefined ? { sceneId } : {}),
    status: running.includes(index) ? 'running' : scene!.status,
    takes,
  };
}

const lastCompleted = (scene: SceneResult) => [...scene.takes].reverse().find((t) => t.outcome === 'completed');

export function formatTakes(s: SceneTakes): string {
  const lines = [
    `${s.id} scene ${sceneLabel({ index: s.index, id: s.sceneId })}: ${s.status}, ${s.takes.length} take(s)`,
  ];
  for (const t of s.takes) {
    if (t.outcome === 'in_flight') {
      lines.push(
        `  take ${t.take}: in flight${t.provider ? ` on ${t.provider}` : ''}${t.jobId ? `, job ${t.jobId}` : ''}${t.phase ? `, ${t.phase}` : ''}${t.progress !== undefined ? ` ${t.progress}%` : ''}`,
      );
      continue;
    }
    lines.push(
      `  take ${t.take}: ${t.outcome} on ${t.provider}${t.jobId ? `, job ${t.jobId}` : ''}, $${t.costUsd.toFixed(2)}${t.reason ? ` - ${t.reason}` : ''}`,
    );
    if (t.assetPath) lines.push(`    asset ${t.assetPath}${t.sha256 ? ` sha256 ${t.sha256}` : ''}`);
    if (t.review) lines.push(`    review: ${t.review.verdict}${t.review.note ? ` - ${t.review.note}` : ''}`);
  }
  return lines.join('\n');
}
