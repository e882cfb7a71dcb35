import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from '../../common/codec/data-converter';
import { TemporalConnectError, temporalConnectionOptions } from '../../common/temporal/connection-options';
import { temporalSettings, type TemporalSettings } from '../../common/temporal/settings';

export interface ConnectedClient {
  client: Client;
  settings: TemporalSettings;
  close(): Promise<void>;
}

/**
 * A Temporal client from the environment: address, namespace, TLS / API key (common/temporal/settings.ts)
 * and, with SORA_SERIES_CODEC_KEYS set, the payload codec, so results and failures read in clear.
 */
export async function connectClient(
  overrides: Partial<TemporalSettings> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectedClient> {
  const settings = { ...temporalSettings(env), ...overrides };
  const dataConverter = dataConverterFromEnv(env);
  const options = temporalConnectionOptions(settings);
  const connection = await Connection.connect(options).catch((err: unknown) => {
    throw new TemporalConnectError(settings, err);
  });
  return {
    client: new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) }),
    settings,
    close: () => connection.close(),
  };
}
