/**
 * `providers check`: for each configured provider, whether its key is accepted and its account
 * can pay (where the contract tells), whether its webhooks are set up, and what a 10 s scene
 * costs there, all without spending anything. Keys are read from this process's environment
 * (run it where the worker runs) and never printed.
 */
import type { ProvidersConfig } from '../../activities/providers/config';
import { ProviderConfigError, readProviderKey } from '../../activities/providers/config';
import { ProviderError } from '../../activities/providers/errors';
import type { AccountCheck } from '../../activities/providers/provider';
import { createProvider, profilesOf } from '../../activities/providers/registry';
import { fitSeconds, takePriceUsd } from '../../workflows/pricing';
import { webhookReadiness, type WebhookReadiness } from './webhook-readiness';

/** The scene length the price column is quoted for. */
export const CHECK_SCENE_SECONDS = 10;

export interface ProviderCheck {
  provider: string;
  contract: string;
  /** `missing`: its key variable is unset; `refused`: the provider said no; `unreachable`: no answer. */
  key: 'accepted' | 'missing' | 'refused' | 'unreachable';
  account: AccountCheck;
  webhook: WebhookReadiness;
  /** A 10 s scene at the provider's first size, fitted to a duration it takes. */
  scene: { seconds: number; size: string; usd: number };
  /** Key accepted and nothing says the account cannot pay. */
  usable: boolean;
  /** Why not, when not. */
  problem?: string;
}

export async function checkProviders(
  config: ProvidersConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProviderCheck[]> {
  const profiles = profilesOf(config);
  return Promise.all(
    config.providers.map(async (provider, i): Promise<ProviderCheck> => {
      const profile = profiles[i];
      const seconds = fitSeconds(profile, CHECK_SCENE_SECONDS);
      const size = profile.sizes[0];
      const row = {
        provider: provider.name,
        contract: provider.contract,
        webhook: webhookReadiness(provider, env),
        scene: { seconds, size, usd: takePriceUsd(profile, seconds, size) },
      };
      let key: string;
      try {
        key = readProviderKey(provider, env);
      } catch (err) {
        if (!(err instanceof ProviderConfigError)) throw err;
        return { ...row, key: 'missing', account: {}, usable: false, problem: err.message };
      }
      try {
        const account = await createProvider(provider, key).checkAccount();
        const broke = account.canPay === false;
        return {
          ...row,
          key: 'accepted',
          account,
          usable: !broke,
          ...(broke ? { problem: `the account cannot pay${account.detail ? ` (${account.detail})` : ''}` } : {}),
        };
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        const refused = err.status === 401 || err.status === 403;
        return { ...row, key: refused ? 'refused' : 'unreachable', account: {}, usable: false, problem: err.message };
      }
    }),
  );
}
