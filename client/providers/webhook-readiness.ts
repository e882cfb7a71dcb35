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
    return 'verifier' in setup ? { state: 'complete', detail: setup.how } : { state: 'polling', detail: setup.polling };
  } catch (err) {
    if (!(err instanceof WebhookConfigError)) throw err;
    return { state: 'incomplete', detail: err.message };
  }
}
