import { createLogger, installRuntimeLogger } from '../../workers/logger';
import { connectClient } from '../connect';
import { clientProviderProfiles } from '../provider-profiles';
import { startGateway } from './server';
import { DEFAULT_GATEWAY_PORT, webhookSecretsFromEnv } from './settings';

export { DEFAULT_GATEWAY_PORT, WEBHOOK_SECRET_ENV, webhookSecretsFromEnv } from './settings';

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
