import { defaultProviderConfig, loadProviderConfig } from '../../activities/providers/config';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';
import { profilesOf } from '../../activities/providers/registry';
import type { ProviderProfile } from '../../workflows/types';

/** Where `sora-series dev` serves the simulator unless told otherwise. */
export const DEFAULT_SIMULATOR_URL = 'http://127.0.0.1:7070';

/**
 * Provider profiles for estimates and validation on the client side: the same config the
 * worker reads when one is set, else the dev stack's simulator config. Needs no keys.
 */
export function clientProviderProfiles(env: NodeJS.ProcessEnv = process.env): {
  profiles: ProviderProfile[];
  source: string;
} {
  if (env[PROVIDERS_FILE_ENV] || env.SORA_SIMULATOR_URL || env.SORA_RELAY_BASE_URL || env.SORA_OFFICIAL_BASE_URL) {
    return { profiles: profilesOf(loadProviderConfig(env)), source: env[PROVIDERS_FILE_ENV] ?? 'environment' };
  }
  return {
    profiles: profilesOf(defaultProviderConfig(DEFAULT_SIMULATOR_URL)),
    source: 'the dev stack default (simulator)',
  };
}
