import { roundUsd } from './pricing';
import type { SceneResult, TakeRecord } from './types';

/**
 * A scene's record across retakes, as pure functions: every take is kept, and a finished video
 * is never dropped because a later take failed.
 */

/** The take whose video the scene delivers: the approved one, else the latest completed. */
export function chosenTake(takes: TakeRecord[]): TakeRecord | undefined {
  const completed = takes.filter((t) => t.outcome === 'completed' && t.assetPath);
  return completed.find((t) => t.review?.verdict === 'approve') ?? completed[completed.length - 1];
}

/** The scene after a retake: both runs' takes and costs; the delivered video is the chosen take's. */
export function mergeRetake(previous: SceneResult, retake: SceneResult): SceneResult {
  const takes = [...previous.takes, ...retake.takes];
  const merged: SceneResult = {
    ...retake,
    // A retake whose child failed before it could report comes back without the scene's id.
    ...(previous.id !== undefined ? { id: previous.id } : {}),
    takes,
    costUsd: roundUsd(previous.costUsd + retake.costUsd),
  };
  return withChosenTake(
    merged,
    retake.status === 'completed'
      ? undefined
      : `latest take: ${retake.status}${retake.reason ? ` (${retake.reason})` : ''}`,
  );
}

/** Points the scene's delivered fields at its chosen take (after a retake or a review). */
export function withChosenTake(scene: SceneResult, note?: string): SceneResult {
  const chosen = chosenTake(scene.takes);
  if (!chosen) return scene;
  const { reason: _reason, ...rest } = scene;
  return {
    ...rest,
    status: 'completed',
    provider: chosen.provider,
    assetPath: chosen.assetPath,
    sha256: chosen.sha256,
    ...(note ? { reason: note } : {}),
  };
}

/** With approval required: a completed scene without an approved take waits for a review or a retake. */
export function awaitsReview(scene: SceneResult): boolean {
  return (
    scene.status === 'completed' &&
    !scene.takes.some((t) => t.outcome === 'completed' && t.review?.verdict === 'approve')
  );
}
