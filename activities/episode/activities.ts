import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EpisodeFiles, EpisodeRequest } from '../../workflows/types';
import { activityLogger, assetsDirOf, type ActivityDeps } from '../deps';
import { NothingToCutError } from '../../workflows/episode-request';
import { cutEpisodeFiles, InvalidEpisodeError, SceneAssetError } from './cut';

/** ffmpeg runs can be long and silent: the last step is heartbeated again this often. */
const HEARTBEAT_MS = 5_000;

/** `ApplicationFailure.type`s of a cut that no retry can make: a take's file changed, or the join does not verify. */
export const EPISODE_FAILURE = {
  sceneAsset: 'SceneAssetUnusable',
  invalid: 'InvalidEpisode',
  nothing: 'NothingToCut',
} as const;

export function episodeActivities(deps: ActivityDeps) {
  const dir = join(deps.dataDir, 'episodes');

  /**
   * The episode, its posters and contact sheet, into `<data dir>/episodes/` (content-addressed). On
   * the transfers queue: it reads and writes whole videos, heartbeating each step; a retry (or a
   * second worker) makes the same files again, since nothing in them depends on when or where.
   */
  async function cutEpisode(request: EpisodeRequest): Promise<EpisodeFiles> {
    const context = Context.current();
    const log = activityLogger(deps);
    let step = 'starting';
    const beat = setInterval(() => context.heartbeat({ step }), HEARTBEAT_MS);
    try {
      const files = await cutEpisodeFiles(request, {
        dir,
        assetsDir: assetsDirOf(deps),
        signal: context.cancellationSignal,
        progress: (now) => {
          step = now;
          context.heartbeat({ step });
        },
      });
      const { episode, contactSheet } = files;
      log.info(
        {
          path: episode.path,
          seconds: episode.seconds,
          joined: episode.joined,
          scenes: episode.scenes.length,
          contactSheet: contactSheet.path,
        },
        'episode cut',
      );
      return files;
    } catch (err) {
      const type =
        err instanceof SceneAssetError
          ? EPISODE_FAILURE.sceneAsset
          : err instanceof InvalidEpisodeError
            ? EPISODE_FAILURE.invalid
            : err instanceof NothingToCutError
              ? EPISODE_FAILURE.nothing
              : undefined;
      if (!type) throw err;
      log.warn({ err: (err as Error).message, step }, 'episode cannot be cut');
      throw ApplicationFailure.create({ type, message: (err as Error).message, nonRetryable: true });
    } finally {
      clearInterval(beat);
    }
  }

  return { cutEpisode };
}
