import { parseProviderConfig, type ProvidersConfig } from '../../activities/providers/config';
import type { ProviderConfigInput } from '../../activities/providers/config-schema';
import { simulatorProviderEntries } from '../../activities/providers/simulator-entries';

type Entry = ProviderConfigInput['providers'][number];

/** A seedance provider on the simulator's twin (`SORA_SEEDANCE_KEY`, as in SIMULATOR_KEYS). */
export function seedanceEntry(simulatorUrl: string, overrides: Partial<Entry> = {}): Entry {
  return {
    name: 'seedance',
    contract: 'seedance',
    baseUrl: `${simulatorUrl.replace(/\/+$/, '')}/seedance/api/v3`,
    keyEnv: 'SORA_SEEDANCE_KEY',
    maxConcurrency: 3,
    ...overrides,
  };
}

/** Providers for a harness: seedance first, the official twin as its fallback. */
export function seedanceThenOfficial(
  simulatorUrl: string,
  tuning: { timeoutMs?: number; expectedJobSeconds?: number } = {},
): ProvidersConfig {
  return parseProviderConfig({
    providers: [seedanceEntry(simulatorUrl, tuning), ...simulatorProviderEntries(simulatorUrl, ['official'], tuning)],
  });
}
