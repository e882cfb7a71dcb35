import { resolve } from 'node:path';
import { portOption, type CommandSpec } from '../commands/command';
import { connectClient } from '../series/connect';
import { profilesOf } from '../../activities/providers/registry';
import { clientProviderConfig } from '../spec/provider-profiles';
import { webhookVerifiers } from './webhook-verifiers';
import { checkedGatewayUrl, GATEWAY_URL_ENV, REVIEW_PATH } from './review-link';
import { startGateway } from './server';
import { DEFAULT_GATEWAY_PORT, GATEWAY_TOKEN_ENV, WEBHOOK_SECRET_ENV } from './settings';

export { DEFAULT_GATEWAY_PORT, WEBHOOK_SECRET_ENV, webhookSecretsFromEnv } from './settings';

/** `sora-series gateway`: serves until SIGINT/SIGTERM. */
export const gatewayCommand: CommandSpec = {
  summary: 'the HTTP door: start, steer and read series, provider webhooks (GET /openapi.json)',
  details: `Set ${GATEWAY_TOKEN_ENV} (callers send Authorization: Bearer <token>) before exposing it beyond loopback; provider webhooks are verified with ${WEBHOOK_SECRET_ENV}. Take videos are read from SORA_SERIES_DATA_DIR (the workers' data directory, default .data); ${GATEWAY_URL_ENV} is the URL browsers reach it at, for review page links.`,
  args: [],
  options: {
    port: { type: 'string', value: 'N', help: `the port to listen on (default ${DEFAULT_GATEWAY_PORT})` },
    host: { type: 'string', value: 'HOST', help: 'the address to bind (default 127.0.0.1)' },
  },
  run: ({ values, print }) =>
    runGateway(portOption(values, 'port', DEFAULT_GATEWAY_PORT), values.host as string | undefined, print),
};

async function runGateway(port: number, host: string | undefined, print: (line: string) => void): Promise<number> {
  // The SDK runtime (loaded with the logger) is needed once the gateway runs, not for the CLI's other commands.
  const { createLogger, installRuntimeLogger } = await import('../../workers/logger');
  const logger = createLogger();
  installRuntimeLogger(logger);
  const { config } = clientProviderConfig();
  const profiles = profilesOf(config);
  // A malformed webhook setting stops the gateway here, before it serves half-configured.
  const webhooks = webhookVerifiers(config.providers);
  const { client, settings, close } = await connectClient();
  try {
    const authToken = process.env[GATEWAY_TOKEN_ENV]?.trim() || undefined;
    const publicUrl = process.env[GATEWAY_URL_ENV]?.trim();
    const gateway = await startGateway({
      client,
      taskQueue: settings.taskQueue,
      logger,
      port,
      host,
      profiles,
      webhooks,
      authToken,
      dataDir: resolve(process.env.SORA_SERIES_DATA_DIR?.trim() || '.data'),
      publicUrl: publicUrl ? checkedGatewayUrl(publicUrl) : undefined,
    });
    print(
      `gateway: ${gateway.url} (OpenAPI at ${gateway.url}/openapi.json; temporal ${settings.address}, task queue ${settings.taskQueue})`,
    );
    print(
      `webhooks: ${Object.keys(webhooks).length ? `POST /webhooks/{${Object.keys(webhooks).join('|')}}` : 'off (`sora-series providers check` says what each provider needs)'}`,
    );
    print(`review pages: ${publicUrl ? checkedGatewayUrl(publicUrl) : gateway.url}${REVIEW_PATH}/<series name>`);
    print(
      `auth: ${authToken ? 'Authorization: Bearer token required (browsers: open a review page once with ?token=<token>)' : `none (set ${GATEWAY_TOKEN_ENV} before exposing it beyond loopback)`}`,
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
