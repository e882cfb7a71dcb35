import { episodeWorkflowId } from './ids';
import { chosenTake } from './scene-results';
import { sha256Hex } from './sha256';
import type { EpisodeRequest, EpisodeScene, SceneResult } from './types';

/**
 * What an episode is cut from, as pure functions the series and its clients share: the chosen take
 * of every completed scene in scene order, and the key that names exactly those takes.
 */

/** A series with no completed take yet: there is nothing to join. */
export class NothingToCutError extends Error {
  constructor(readonly seriesId: string) {
    super(`${seriesId}: no scene has a completed take to cut yet`);
    this.name = 'NothingToCutError';
  }
}

/** The series' cut as its scenes stand now: completed scenes only, in scene order. */
export function episodeRequestOf(seriesId: string, results: SceneResult[]): EpisodeRequest {
  const scenes: EpisodeScene[] = [];
  for (const result of [...results].sort((a, b) => a.index - b.index)) {
    const take = result.status === 'completed' ? chosenTake(result.takes) : undefined;
    if (take?.assetPath && take.sha256)
      scenes.push({
        index: result.index,
        take: take.take,
        provider: take.provider,
        assetPath: take.assetPath,
        sha256: take.sha256,
      });
  }
  return { seriesId, scenes };
}

/**
 * 16 hex digits of the sha256 of one `index take provider sha256` line per scene: the same takes
 * give the same key, a retake or another approved take a new one. Paths are left out: the bytes are the sha256.
 */
export function cutKey(scenes: EpisodeScene[]): string {
  return sha256Hex(scenes.map((s) => `${s.index} ${s.take} ${s.provider} ${s.sha256}\n`).join('')).slice(0, 16);
}

/** The workflow id of this cut: starting it again finds the one already made (or making). */
export const episodeWorkflowIdOf = (request: EpisodeRequest): string =>
  episodeWorkflowId(request.seriesId, cutKey(request.scenes));

/** How episode workflows are started, by the series and its clients alike: a completed cut is not made again, a failed one may be. */
export const EPISODE_ID_REUSE = 'ALLOW_DUPLICATE_FAILED_ONLY' as const;
