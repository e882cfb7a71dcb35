/**
 * Builds the adapters a worker uses from its provider config. Keys are read from the
 * environment here, when the worker wires its activities, and live only inside the adapters;
 * `profilesOf` is what may leave the worker (workflow inputs, routing, CLI output).
 */
import { CHARACTER_PRICE_USD, CHARACTERS_PER_TAKE } from '../../workflows/cast-rules';
import type { ProviderProfile } from '../../workflows/types';
import { type ProvidersConfig, ProviderConfigError, readProviderKey, type ResolvedProviderConfig } from './config';
import { resolveFalSettings } from './fal-config';
import { KlingProvider } from './kling';
import { resolveKlingSettings } from './kling-config';
import { DEFAULT_KLING_MODEL } from './kling-models';
import { OfficialProvider } from './official';
import type { VideoProvider } from './provider';
import { RelayV1Provider } from './relay-v1';
import { FalProvider } from './fal';
import { falModel } from './fal-models';
import { DEFAULT_SEEDANCE_MODEL, resolveSeedanceSettings } from './seedance-config';
import { SeedanceProvider } from './seedance';

/** One adapter per configured provider, keyed by provider name. Throws if any key is missing. */
export function createProviders(
  config: ProvidersConfig,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, VideoProvider> {
  const missing: string[] = [];
  const providers = new Map<string, VideoProvider>();
  for (const provider of config.providers) {
    let apiKey: string;
    try {
      apiKey = readProviderKey(provider, env);
    } catch (err) {
      missing.push((err as Error).message);
      continue;
    }
    providers.set(provider.name, createProvider(provider, apiKey));
  }
  // Name every missing key at once: fixing them one restart at a time is tedious.
  if (missing.length > 0) throw new ProviderConfigError(missing.join('\n'));
  return providers;
}

export function createProvider(provider: ResolvedProviderConfig, apiKey: string): VideoProvider {
  const profile = profileOf(provider);
  switch (provider.contract) {
    case 'official':
      return new OfficialProvider({
        profile,
        baseUrl: provider.baseUrl,
        apiKey,
        model: provider.model ?? 'sora-2',
        timeoutMs: provider.timeoutMs,
      });
    case 'relay-v1':
      return new RelayV1Provider({ profile, baseUrl: provider.baseUrl, apiKey, timeoutMs: provider.timeoutMs });
    case 'fal':
      return new FalProvider({
        profile,
        baseUrl: provider.baseUrl,
        apiKey,
        model: provider.model ?? '',
        timeoutMs: provider.timeoutMs,
        settings: provider.fal ?? resolveFalSettings(undefined),
      });
    case 'seedance':
      return new SeedanceProvider({
        profile,
        baseUrl: provider.baseUrl,
        apiKey,
        model: provider.model ?? DEFAULT_SEEDANCE_MODEL,
        timeoutMs: provider.timeoutMs,
        settings: provider.seedance ?? resolveSeedanceSettings(undefined),
      });
    case 'kling':
      return new KlingProvider({
        profile,
        baseUrl: provider.baseUrl,
        apiKey,
        model: provider.model ?? DEFAULT_KLING_MODEL,
        timeoutMs: provider.timeoutMs,
        settings: provider.kling ?? resolveKlingSettings(undefined),
      });
  }
}

/** What routing needs to know about each provider: no keys, no URLs. */
export function profilesOf(config: ProvidersConfig): ProviderProfile[] {
  return config.providers.map(profileOf);
}

function profileOf(provider: ResolvedProviderConfig): ProviderProfile {
  return {
    name: provider.name,
    contract: provider.contract,
    seconds: [...provider.seconds],
    sizes: [...provider.sizes],
    maxConcurrency: provider.maxConcurrency,
    refusesHumanLikeness: provider.refusesHumanLikeness,
    pricing: structuredClone(provider.pricing),
    maxCharacters:
      (provider.contract === 'fal' && provider.model ? falModel(provider.model)?.maxCharacters : undefined) ??
      CHARACTERS_PER_TAKE[provider.contract],
    characterUsd: CHARACTER_PRICE_USD[provider.contract],
    expectedJobSeconds: provider.expectedJobSeconds,
    webhooks: provider.webhooks,
  };
}
