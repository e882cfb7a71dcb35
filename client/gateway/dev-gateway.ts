import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ProvidersConfig } from '../../activities/providers/config';
import { profilesOf } from '../../activities/providers/registry';
import type { RunningSimulator } from '../../simulator/server';
import { startGateway, type RunningGateway } from './server';
import { officialWebhookVerifier, webhookVerifiers } from './webhook-verifiers';

/**
 * The dev stack's gateway. Official-contract providers served by the stack's simulator get a
 * random webhook secret made for this run, held only in this process (the gateway verifies with
 * it, the simulator signs with it), and the simulator sends its webhooks here. Providers of a
 * real config take their secret from the environment, as `sora-series gateway` does.
 */
export async function startDevGateway(options: {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  port: number;
  logger: Logger;
  config: ProvidersConfig;
  simulator: RunningSimulator;
  env: NodeJS.ProcessEnv;
  /** The stack's data directory, where its worker stores the videos the review page plays. */
  dataDir: string;
}): Promise<{ gateway: RunningGateway; stop(): Promise<void> }> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const simulated = options.config.providers.filter(
    (p) => p.contract === 'official' && p.baseUrl.startsWith(options.simulator.url),
  );
  const webhooks = {
    ...webhookVerifiers(options.config.providers, options.env),
    ...Object.fromEntries(simulated.map((p) => [p.name, officialWebhookVerifier(secret)])),
  };
  const connection = await Connection.connect({ address: options.temporalAddress });
  try {
    const gateway = await startGateway({
      client: new Client({ connection, namespace: options.namespace }),
      taskQueue: options.taskQueue,
      logger: options.logger,
      port: options.port,
      profiles: profilesOf(options.config),
      webhooks,
      dataDir: options.dataDir,
    });
    // The simulator serves every official provider of the default config at one base URL: one target does.
    if (simulated[0]) options.simulator.setWebhook({ url: `${gateway.url}/webhooks/${simulated[0].name}`, secret });
    return {
      gateway,
      stop: async () => {
        options.simulator.setWebhook(undefined);
        await gateway.close();
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
