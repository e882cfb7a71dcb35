import type { ResolvedProviderConfig } from '../../activities/providers/config';
import type { ContractKind } from '../../workflows/types';
import { WEBHOOK_SECRET_ENV, webhookSecretsFromEnv } from '../gateway/settings';
import { webhookSecretKey, WebhookSecretError } from '../gateway/webhook-signature';

/** Whether a provider's jobs can end by webhook: `polling` is always the safety net. */
export interface WebhookReadiness {
  state: 'complete' | 'incomplete' | 'polling';
  detail: string;
}

type Readiness = (provider: ResolvedProviderConfig, env: NodeJS.ProcessEnv) => WebhookReadiness;

const secretVariable = (name: string) => `${WEBHOOK_SECRET_ENV}_${name.toUpperCase().replace(/-/g, '_')}`;

/** Signed per Standard Webhooks with a dashboard-held secret; the endpoint is set in the dashboard. */
const standardWebhooks: Readiness = (provider, env) => {
  const secret = webhookSecretsFromEnv([provider.name], env)[provider.name];
  if (!secret)
    return {
      state: 'polling',
      detail: `set ${secretVariable(provider.name)} (or ${WEBHOOK_SECRET_ENV}) to take webhooks`,
    };
  try {
    webhookSecretKey(secret, `the webhook secret of ${provider.name}`);
  } catch (err) {
    if (!(err instanceof WebhookSecretError)) throw err;
    return { state: 'incomplete', detail: err.message };
  }
  return {
    state: 'complete',
    detail: `signed (Standard Webhooks); point the provider's webhook at <gateway>/webhooks/${provider.name}`,
  };
};

/** Per contract, since each one sends (or cannot send) callbacks its own way. */
export const WEBHOOK_READINESS: Record<ContractKind, Readiness> = {
  official: standardWebhooks,
  'relay-v1': () => ({ state: 'polling', detail: 'the contract has no webhooks' }),
};
