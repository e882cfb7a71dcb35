import type { ResolvedProviderConfig } from '../../activities/providers/config';
import { WebhookConfigError, webhookVerifierSetup } from '../gateway/webhook-verifiers';

/** Whether a provider's jobs can end by webhook: `polling` is always the safety net. */
export interface WebhookReadiness {
  state: 'complete' | 'incomplete' | 'polling';
  detail: string;
}

/** What the gateway would make of this provider's webhook settings. */
export function webhookReadiness(provider: ResolvedProviderConfig, env: NodeJS.ProcessEnv): WebhookReadiness {
  try {
    const setup = webhookVerifierSetup(provider, env);
    if ('verifier' in setup) return { state: 'complete', detail: setup.how };
    return { state: setup.incomplete ? 'incomplete' : 'polling', detail: setup.polling };
  } catch (err) {
    if (!(err instanceof WebhookConfigError)) throw err;
    return { state: 'incomplete', detail: err.message };
  }
}
