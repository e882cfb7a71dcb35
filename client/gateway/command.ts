import { parseArgs } from 'node:util';
import { createLogger, installRuntimeLogger } from '../../workers/logger';
import { ArgumentError } from '../commands/args';
import { connectClient } from '../series/connect';
import { clientProviderProfiles } from '../spec/provider-profiles';
import { startGateway } from './server';
import { DEFAULT_GATEWAY_PORT, GATEWAY_TOKEN_ENV, webhookSecretsFromEnv } from './settings';

export { DEFAULT_GATEWAY_PORT, WEBHOOK_SECRET_ENV, webhookSecretsFromEnv } from './settings';

/** `sora-series gateway [--port N] [--host H]`: serves until SIGINT/SIGTERM. */
export async function runGatewayCommand(args: string[], print: (line: string) => void): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' } } });
  const port = values.port === undefined ? DEFAULT_GATEWAY_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ArgumentError(`--port: must be a port number (0-65535), got "${values.port}"`);
  const logger = createLogger();
  installRuntimeLogger(logger);
  const { profiles } = clientProviderProfiles();
  const official = profiles.filter((p) => p.contract === 'official').map((p) => p.name);
  const { client, settings, close } = await connectClient();
  try {
    const authToken = process.env[GATEWAY_TOKEN_ENV]?.trim() || undefined;
    const webhookSecrets = webhookSecretsFromEnv(official, process.env);
    const gateway = await startGateway({
      client,
      taskQueue: settings.taskQueue,
      logger,
      port,
      host: values.host,
      profiles,
      webhookSecrets,
      authToken,
    });
    print(
      `gateway: ${gateway.url} (OpenAPI at ${gateway.url}/openapi.json; temporal ${settings.address}, task queue ${settings.taskQueue})`,
    );
    print(
      `webhooks: ${Object.keys(webhookSecrets).length ? `POST /webhooks/{${Object.keys(webhookSecrets).join('|')}}` : 'off (set SORA_SERIES_WEBHOOK_SECRET)'}`,
    );
    print(
      `auth: ${authToken ? 'Authorization: Bearer token required' : `none (set ${GATEWAY_TOKEN_ENV} before exposing it beyond loopback)`}`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await gateway.close();
    return 0;
  } finally {
    await close();
  }
}
