import { defaultProviderConfig, loadProviderConfig, type ProvidersConfig } from '../../activities/providers/config';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';
import { profilesOf } from '../../activities/providers/registry';
import type { ProviderProfile } from '../../workflows/types';

/** Where `sora-series dev` serves the simulator unless told otherwise. */
export const DEFAULT_SIMULATOR_URL = 'http://127.0.0.1:7070';

/**
 * The provider config the client side sees: the same config the worker reads when one is set,
 * else the dev stack's simulator config.
 */
export function clientProviderConfig(env: NodeJS.ProcessEnv = process.env): {
  config: ProvidersConfig;
  source: string;
} {
  if (env[PROVIDERS_FILE_ENV] || env.SORA_SIMULATOR_URL || env.SORA_RELAY_BASE_URL || env.SORA_OFFICIAL_BASE_URL) {
    return { config: loadProviderConfig(env), source: env[PROVIDERS_FILE_ENV] ?? 'environment' };
  }
  return { config: defaultProviderConfig(DEFAULT_SIMULATOR_URL), source: 'the dev stack default (simulator)' };
}

/** Provider profiles for estimates and validation on the client side. Needs no keys. */
export function clientProviderProfiles(env: NodeJS.ProcessEnv = process.env): {
  profiles: ProviderProfile[];
  source: string;
} {
  const { config, source } = clientProviderConfig(env);
  return { profiles: profilesOf(config), source };
}
