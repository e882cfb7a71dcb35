import type { Client } from '@temporalio/client';
import { seriesStatusQuery } from '../../workflows/messages';
import type { SceneResult, TakeRecord } from '../../workflows/types';
import { sceneProgress } from './scene-progress';
import { describeSeries } from './series-client';

/** Every take of a scene, finished ones and the one in flight: what `sora-series takes` and the gateway show. */

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
  /** Library characters: how the scene's delivered take held each one. */
  continuityByCharacter?: SceneResult['continuityByCharacter'];
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

const lastCompleted = (scene: SceneResult) => [...scene.takes].reverse().find((t) => t.outcome === 'completed');

/** A finished scene's takes; the scene's asset belongs to its last completed take when the take itself does not carry it. */
function recordedTakes(scene: SceneResult | undefined): TakeRecord[] {
  return (scene?.takes ?? []).map((t) =>
    scene?.assetPath && !t.assetPath && t.outcome === 'completed' && t === lastCompleted(scene)
      ? { ...t, assetPath: scene.assetPath, sha256: scene.sha256 }
      : t,
  );
}

async function takesOf(
  client: Client,
  id: string,
  index: number,
  scene: SceneResult | undefined,
  running: boolean,
): Promise<SceneTakes> {
  const takes: SceneTakes['takes'] = recordedTakes(scene);
  let sceneId = scene?.id;
  if (running) {
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
  return {
    id,
    index,
    ...(sceneId !== undefined ? { sceneId } : {}),
    status: running ? 'running' : scene!.status,
    takes,
    ...(scene?.continuityByCharacter ? { continuityByCharacter: scene.continuityByCharacter } : {}),
  };
}

export async function sceneTakes(client: Client, id: string, index: number): Promise<SceneTakes> {
  const { scenes, running } = await finishedScenes(client, id);
  const scene = scenes.find((s) => s.index === index);
  if (!scene && !running.includes(index))
    throw new SceneNotFoundError(
      id,
      index,
      scenes.map((s) => s.index).sort((a, b) => a - b),
    );
  return takesOf(client, id, index, scene, running.includes(index));
}

/** The takes of every scene that has started, in index order (scenes not started yet have none). */
export async function seriesTakes(client: Client, id: string): Promise<{ id: string; scenes: SceneTakes[] }> {
  const { scenes, running } = await finishedScenes(client, id);
  const indexes = [...new Set([...scenes.map((s) => s.index), ...running])].sort((a, b) => a - b);
  return {
    id,
    scenes: await Promise.all(
      indexes.map((index) =>
        takesOf(
          client,
          id,
          index,
          scenes.find((s) => s.index === index),
          running.includes(index),
        ),
      ),
    ),
  };
}

/** One recorded take of a finished scene (not one in flight), or undefined. */
export async function recordedTake(
  client: Client,
  id: string,
  index: number,
  take: number,
): Promise<TakeRecord | undefined> {
  const { scenes } = await finishedScenes(client, id);
  return recordedTakes(scenes.find((s) => s.index === index)).find((t) => t.take === take);
}
