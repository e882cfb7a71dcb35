import { createLogger, installRuntimeLogger } from '../../workers/logger';
import { connectClient } from '../connect';
import { clientProviderProfiles } from '../provider-profiles';
import { startGateway } from './server';

/** Where the gateway listens unless told otherwise (the simulator is on 7070). */
export const DEFAULT_GATEWAY_PORT = 7071;
/** The webhook signing secret (`whsec_...`) of every official-contract provider ... */
export const WEBHOOK_SECRET_ENV = 'SORA_SERIES_WEBHOOK_SECRET';

/** ... unless `SORA_SERIES_WEBHOOK_SECRET_<PROVIDER>` (name upper-cased, `-` as `_`) gives that provider its own. */
export function webhookSecretsFromEnv(providers: string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const provider of providers) {
    const own = env[`${WEBHOOK_SECRET_ENV}_${provider.toUpperCase().replace(/-/g, '_')}`]?.trim();
    const shared = env[WEBHOOK_SECRET_ENV]?.trim();
    if (own || shared) secrets[provider] = (own || shared)!;
  }
  return secrets;
}

/** `sora-series gateway [--port N] [--host H]`: serves until SIGINT/SIGTERM. */
export async function runGateway(options: { port?: number; host?: string; print: (line: string) => void }): Promise<void> {
  const logger = createLogger();
  installRuntimeLogger(logger);
  const { profiles } = clientProviderProfiles();
  const official = profiles.filter((p) => p.contract === 'official').map((p) => p.name);
  const { client, settings, close } = await connectClient();
  try {
    const gateway = await startGateway({
      client,
      taskQueue: settings.taskQueue,
      logger,
      port: options.port ?? DEFAULT_GATEWAY_PORT,
      host: options.host,
      profiles,
      webhookSecrets: webhookSecretsFromEnv(official, process.env),
    });
    options.print(`gateway: ${gateway.url} (OpenAPI at ${gateway.url}/openapi.json; temporal ${settings.address}, task queue ${settings.taskQueue})`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await gateway.close();
  } finally {
    await close();
  }
}
