/**
 * How each contract's webhooks are verified and read, one verifier per provider. A verifier
 * turns the exact request bytes into a notice, or throws 400/401 (nothing is acted on before).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ResolvedProviderConfig } from '../../activities/providers/config';
import type { JobFinished } from '../../workflows/messages';
import type { ContractKind } from '../../workflows/types';
import { BadRequestError } from './errors';
import { webhookEventSchema } from './schemas';
import { falWebhookSettings, verifyFalWebhook } from './webhook-fal';
import { verifyKlingWebhook } from './webhook-kling';
import { parseSeedanceCallback } from './webhook-seedance';
import { WEBHOOK_SECRET_ENV, webhookSecretsFromEnv } from './settings';
import { verifyWebhook, webhookSecretKey } from './webhook-signature';

/** What a webhook says, once verified. */
export interface WebhookNotice {
  /** Unique per delivery: a replay of it is answered `duplicate`. */
  webhookId: string;
  /** The job that ended, for events that end one; absent: an event of another type (ignored). */
  jobId?: string;
  /** `hint`: an unsigned callback, trusted only to read the job at once (never its outcome). */
  event?: JobFinished['event'];
  /** The upstream's event type, for logs. */
  type: string;
}

export type WebhookVerifier = (headers: IncomingHttpHeaders, body: Buffer) => Promise<WebhookNotice>;

/** A provider's webhook settings are there but wrong (a malformed secret): named, never its value. */
export class WebhookConfigError extends Error {
  override name = 'WebhookConfigError';
}

/** Upstream job ids as the contracts mint them; anything else cannot be ours. */
const JOB_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Checks a job id taken from a webhook body, naming the field it came from. */
export function webhookJobId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !JOB_ID.test(value))
    throw new BadRequestError(
      `${field}: must be the job id (letters, digits, _ . : or -), got ${JSON.stringify(value)}`,
    );
  return value;
}

/** The body as JSON, or 400 naming the shape the contract sends. */
export function webhookJson(body: Buffer, expected: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError(`the webhook body is not JSON: expected ${expected}`);
  }
}

/** Events of the official contract that end a job; any other type is acknowledged and ignored. */
const OFFICIAL_JOB_EVENTS: Record<string, JobFinished['event']> = {
  'video.completed': 'completed',
  'video.failed': 'failed',
};
const OFFICIAL_SHAPE = '{id, object: "event", created_at, type, data: {id}}';

/** The official contract: Standard Webhooks signatures, `video.completed` / `video.failed` events. */
export function officialWebhookVerifier(secret: string, source = 'webhook secret'): WebhookVerifier {
  const key = webhookSecretKey(secret, source);
  return async (headers, body) => {
    const { webhookId } = verifyWebhook(headers, body, key);
    const parsed = webhookEventSchema.safeParse(webhookJson(body, OFFICIAL_SHAPE));
    if (!parsed.success) {
      throw new BadRequestError(
        `the webhook body is not an event: expected ${OFFICIAL_SHAPE}`,
        parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })),
      );
    }
    const event = OFFICIAL_JOB_EVENTS[parsed.data.type];
    if (!event) return { webhookId, type: parsed.data.type };
    return { webhookId, type: parsed.data.type, event, jobId: webhookJobId(parsed.data.data?.id, 'data.id') };
  };
}

/** A provider's verifier from its settings, or why it takes none (it is then polled only). */
export type VerifierSetup =
  | { verifier: WebhookVerifier; how: string }
  /** `incomplete`: settings half there (a callback URL without the secret to verify it): polling still works. */
  | { polling: string; incomplete?: boolean };

const secretVariable = (name: string) => `${WEBHOOK_SECRET_ENV}_${name.toUpperCase().replace(/-/g, '_')}`;

/** Per contract, since each signs (or cannot sign) its callbacks its own way. Throws WebhookConfigError. */
const SETUP: Record<ContractKind, (provider: ResolvedProviderConfig, env: NodeJS.ProcessEnv) => VerifierSetup> = {
  official: (provider, env) => {
    const secret = webhookSecretsFromEnv([provider.name], env)[provider.name];
    if (!secret) return { polling: `set ${secretVariable(provider.name)} (or ${WEBHOOK_SECRET_ENV}) to take webhooks` };
    try {
      return {
        verifier: officialWebhookVerifier(secret, `the webhook secret of ${provider.name}`),
        how: `signed (Standard Webhooks); point the provider's webhook at <gateway>/webhooks/${provider.name}`,
      };
    } catch (err) {
      throw new WebhookConfigError((err as Error).message);
    }
  },
  'relay-v1': () => ({ polling: 'the contract has no webhooks' }),
  // Kling calls each task's callback_url (kling.callbackUrl) and signs per Standard Webhooks once a secret exists
  kling: (provider, env) => {
    const kling = provider.kling;
    if (!kling?.callbackUrl)
      return { polling: `set kling.callbackUrl to <gateway>/webhooks/${provider.name} so Kling calls back` };
    const secret = kling.webhookSecretEnv ? env[kling.webhookSecretEnv]?.trim() : undefined;
    if (!secret)
      return {
        polling: `kling.callbackUrl is set but no webhook secret: create one in the Kling console and export it in ${kling.webhookSecretEnv ?? 'the variable kling.webhookSecretEnv names'} (unsigned callbacks are refused)`,
        incomplete: true,
      };
    try {
      webhookSecretKey(secret, `${kling.webhookSecretEnv} (the webhook secret of ${provider.name})`);
    } catch (err) {
      throw new WebhookConfigError((err as Error).message);
    }
    return {
      verifier: async (headers, body) => {
        const callback = verifyKlingWebhook(headers, body, { secret });
        if (!callback) return { webhookId: 'not-final', type: 'submitted or processing' }; // acknowledged, nothing to do
        return { ...callback, type: callback.event };
      },
      how: `signed (Standard Webhooks, secret in ${kling.webhookSecretEnv}); Kling calls ${kling.callbackUrl}`,
    };
  },
  // Ark signs nothing: a callback is only a hint to read the task now (never its outcome)
  seedance: (provider) => {
    const url = provider.seedance?.callbackUrl;
    if (!url) return { polling: `set seedance.callbackUrl to <gateway>/webhooks/${provider.name} so Ark calls back` };
    return {
      verifier: async (headers, body) => {
        const callback = parseSeedanceCallback(headers, body);
        if (!callback) return { webhookId: 'not-final', type: 'queued or running' }; // acknowledged, nothing to do
        return { webhookId: callback.webhookId, jobId: callback.jobId, event: 'hint', type: callback.event };
      },
      how: `unsigned hints (the scene reads the task at once); Ark calls ${url}`,
    };
  },
  // fal is told where to call per request (fal.webhookUrl), and signs with keys of its JWKS
  fal: (provider) => {
    const fal = provider.fal!;
    if (!fal.webhookUrl)
      return { polling: `set fal.webhookUrl to <gateway>/webhooks/${provider.name} so fal calls back` };
    const settings = falWebhookSettings(fal);
    return {
      verifier: async (headers, body) => {
        const { webhookId, jobId, event } = await verifyFalWebhook(headers, body, settings);
        return { webhookId, jobId, event, type: event };
      },
      how: `signed (ED25519, keys from ${fal.jwksUrl}); fal calls ${fal.webhookUrl}`,
    };
  },
};

export function webhookVerifierSetup(provider: ResolvedProviderConfig, env: NodeJS.ProcessEnv): VerifierSetup {
  return SETUP[provider.contract](provider, env);
}

/** Every provider's verifier that its settings allow; a malformed setting throws (the gateway must not start half-configured). */
export function webhookVerifiers(
  providers: ResolvedProviderConfig[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, WebhookVerifier> {
  const verifiers: Record<string, WebhookVerifier> = {};
  for (const provider of providers) {
    const setup = webhookVerifierSetup(provider, env);
    if ('verifier' in setup) verifiers[provider.name] = setup.verifier;
  }
  return verifiers;
}
