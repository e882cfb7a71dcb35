/**
 * Provider config entries for the bundled simulator's twins: the dev stack's chain and the legacy
 * relay+official pair are both made from this one table.
 */
import { DEFAULT_PROVIDER_CHAIN } from '../../workflows/provider-rules';
import type { ProviderConfigInput } from './config-schema';

/** The contracts the simulator serves, by the provider name the dev stack gives each. */
export type SimulatedProvider = 'kling' | 'fal' | 'seedance' | 'official' | 'relay';

/**
 * The dev stack's chain: live contracts first (kling keeps the character as an element, fal's
 * Seedance 2.0 and Ark's Seedance reference it per request), official last for OpenAI-compatible
 * hosts. The relay twin is still served, but its relays were suspended: a config names it.
 */
export const DEFAULT_CHAIN = DEFAULT_PROVIDER_CHAIN satisfies readonly SimulatedProvider[];

/** Where each twin calls back in the dev stack: the gateway's `/webhooks/<provider>` routes. */
export interface SimulatorWebhooks {
  gatewayUrl: string;
  /** The variable holding the Kling twin's webhook secret (made per run by the dev stack). */
  klingSecretEnv: string;
}

/** The fal model the dev stack drives: Seedance 2.0 reference-to-video. */
export const DEFAULT_FAL_MODEL = 'bytedance/seedance-2.0/reference-to-video';

/** The simulator's jobs take 2 s unless told otherwise (simulator/server.ts). */
export const SIMULATOR_JOB_SECONDS = 2;

/**
 * Provider entries for the simulator's twins, in the order named; `webhooks` points each twin's
 * callbacks at the gateway (the official twin's go there by the simulator's own setting).
 */
export function simulatorProviderEntries(
  simulatorUrl: string,
  names: readonly SimulatedProvider[],
  tuning: { timeoutMs?: number; expectedJobSeconds?: number } = {},
  webhooks?: SimulatorWebhooks,
): ProviderConfigInput['providers'] {
  const base = simulatorUrl.replace(/\/+$/, '');
  const hook = (name: string) => (webhooks ? `${webhooks.gatewayUrl.replace(/\/+$/, '')}/webhooks/${name}` : undefined);
  const entries: Record<SimulatedProvider, ProviderConfigInput['providers'][number]> = {
    kling: {
      name: 'kling',
      contract: 'kling',
      baseUrl: `${base}/kling`,
      keyEnv: 'SORA_KLING_KEY',
      ...(webhooks ? { kling: { callbackUrl: hook('kling'), webhookSecretEnv: webhooks.klingSecretEnv } } : {}),
    },
    fal: {
      name: 'fal',
      contract: 'fal',
      baseUrl: `${base}/fal/queue`,
      keyEnv: 'SORA_FAL_KEY',
      model: DEFAULT_FAL_MODEL,
      fal: {
        storageUrl: `${base}/fal/rest`,
        platformUrl: `${base}/fal/api/v1`,
        jwksUrl: `${base}/fal/.well-known/jwks.json`,
        ...(webhooks ? { webhookUrl: hook('fal') } : {}),
      },
    },
    seedance: {
      name: 'seedance',
      contract: 'seedance',
      baseUrl: `${base}/seedance/api/v3`,
      keyEnv: 'SORA_SEEDANCE_KEY',
      ...(webhooks ? { seedance: { callbackUrl: hook('seedance') } } : {}),
    },
    official: {
      name: 'official',
      contract: 'official',
      baseUrl: `${base}/v1`,
      keyEnv: 'SORA_OFFICIAL_KEY',
      model: 'sora-2',
      maxConcurrency: 4,
    },
    relay: {
      name: 'relay',
      contract: 'relay-v1',
      baseUrl: `${base}/relay`,
      keyEnv: 'SORA_RELAY_KEY',
      maxConcurrency: 3,
    },
  };
  // with callbacks on, status checks are only the safety net (activities/check-plan.ts)
  const waiting = { expectedJobSeconds: SIMULATOR_JOB_SECONDS, ...(webhooks ? { webhooks: true } : {}) };
  return names.map((name) => ({ ...entries[name], ...waiting, ...tuning }));
}
