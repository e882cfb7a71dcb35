import { createLogger, installRuntimeLogger } from '../../workers/logger';
import { portOption, type CommandSpec } from '../commands/command';
import { connectClient } from '../series/connect';
import { clientProviderProfiles } from '../spec/provider-profiles';
import { startGateway } from './server';
import { DEFAULT_GATEWAY_PORT, GATEWAY_TOKEN_ENV, WEBHOOK_SECRET_ENV, webhookSecretsFromEnv } from './settings';

export { DEFAULT_GATEWAY_PORT, WEBHOOK_SECRET_ENV, webhookSecretsFromEnv } from './settings';

/** `sora-series gateway`: serves until SIGINT/SIGTERM. */
export const gatewayCommand: CommandSpec = {
  summary: 'the HTTP door: start, steer and read series, provider webhooks (GET /openapi.json)',
  details: `Set ${GATEWAY_TOKEN_ENV} (callers send Authorization: Bearer <token>) before exposing it beyond loopback; provider webhooks are verified with ${WEBHOOK_SECRET_ENV}.`,
  args: [],
  options: {
    port: { type: 'string', value: 'N', help: `the port to listen on (default ${DEFAULT_GATEWAY_PORT})` },
    host: { type: 'string', value: 'HOST', help: 'the address to bind (default 127.0.0.1)' },
  },
  run: ({ values, print }) =>
    runGateway(portOption(values, 'port', DEFAULT_GATEWAY_PORT), values.host as string | undefined, print),
};

async function runGateway(port: number, host: string | undefined, print: (line: string) => void): Promise<number> {
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
      host,
      profiles,
      webhookSecrets,
      authToken,
    });
    print(
      `gateway: ${gateway.url} (OpenAPI at ${gateway.url}/openapi.json; temporal ${settings.address}, task queue ${settings.taskQueue})`,
    );
    print(
      `webhooks: ${Object.keys(webhookSecrets).length ? `POST /webhooks/{${Object.keys(webhookSecrets).join('|')}}` : `off (set ${WEBHOOK_SECRET_ENV})`}`,
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
