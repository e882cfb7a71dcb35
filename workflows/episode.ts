import { local, transfers } from './activities';
import type { EpisodeFiles, EpisodeRequest } from './types';

/**
 * One cut of a series (id `<series id>/episode-<cut key>`, workflows/episode-request.ts): the chosen
 * takes joined into one MP4 with a contact sheet and posters, by one heartbeating transfer, then
 * recorded in the series' manifest if the series has ended with exactly these takes. Started by the
 * series as it ends, and on demand by the CLI, the gateway and the library, for running and
 * finished series alike; the same takes are cut once, since starting the same id again finds it.
 */
export async function episodeWorkflow(request: EpisodeRequest): Promise<EpisodeFiles> {
  const files = await transfers.cutEpisode(request);
  await local.recordEpisode({ seriesId: request.seriesId, files });
  return files;
}
