import { characterActivities } from './character';
import { characterLibraryActivities } from './character-library';
import type { ActivityDeps } from './deps';
import { episodeActivities } from './episode/activities';
import { jobCollectActivities } from './job-collect';
import { manifestActivities } from './manifest';
import { takeActivities } from './takes';
import type { ProviderProfile } from '../workflows/types';

export type { ActivityDeps } from './deps';

/** Every activity the workflows call, bound to one worker's providers and storage. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...characterActivities(deps),
    ...takeActivities(deps),
    ...manifestActivities(deps),
    ...episodeActivities(deps),
    ...characterLibraryActivities(deps),
    ...jobCollectActivities(deps),
    /** What this worker's providers can do (no secrets): routing's view of the world. */
    async listProviderProfiles(): Promise<ProviderProfile[]> {
      return [...deps.providers.values()].map((p) => p.profile);
    },
  };
}

export type SeriesActivities = ReturnType<typeof createActivities>;
