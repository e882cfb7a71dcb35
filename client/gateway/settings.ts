/** Where the gateway listens and where its webhook secrets come from. */

/** Where the gateway listens unless told otherwise (the simulator is on 7070). */
export const DEFAULT_GATEWAY_PORT = 7071;
/** An optional bearer token the steering routes require (health, the description and signed webhooks stay open). */
export const GATEWAY_TOKEN_ENV = 'SORA_SERIES_GATEWAY_TOKEN';
/** The webhook signing secret (`whsec_...`) of every official-contract provider ... */
export const WEBHOOK_SECRET_ENV = 'SORA_SERIES_WEBHOOK_SECRET';

/** ... unless `SORA_SERIES_WEBHOOK_SECRET_<PROVIDER>` (name upper-cased, `-` as `_`) gives that provider its own. */
export function webhookSecretsFromEnv(
  providers: string[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const provider of providers) {
    const secret =
      env[`${WEBHOOK_SECRET_ENV}_${provider.toUpperCase().replace(/-/g, '_')}`]?.trim() ||
      env[WEBHOOK_SECRET_ENV]?.trim();
    if (secret) secrets[provider] = secret;
  }
  return secrets;
}
