/**
 * Builds the adapters a worker uses from its provider config. Keys are read from the
 * environment here, when the worker wires its activities, and live only inside the adapters;
 * `profilesOf` is what may leave the worker (workflow inputs, routing, CLI output).
 */
import type { ProviderProfile } from '../../workflows/types';
import { type ProvidersConfig, ProviderConfigError, readProviderKey, type ResolvedProviderConfig } from './config';
import { OfficialProvider } from './official';
import type { VideoProvider } from './provider';
import { RelayV1Provider } from './relay-v1';

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
    expectedJobSeconds: provider.expectedJobSeconds,
    webhooks: provider.webhooks,
  };
}
