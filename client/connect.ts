import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from './codec/data-converter';
import { temporalConnectionOptions } from './connection-options';
import { temporalSettings, type TemporalSettings } from './settings';

export interface ConnectedClient {
  client: Client;
  settings: TemporalSettings;
  close(): Promise<void>;
}

/**
 * A Temporal client from the environment: address, namespace, TLS / API key (client/settings.ts)
 * and, with SORA_SERIES_CODEC_KEYS set, the payload codec, so results and failures read in clear.
 */
export async function connectClient(overrides: Partial<TemporalSettings> = {}, env: NodeJS.ProcessEnv = process.env): Promise<ConnectedClient> {
  const settings = { ...temporalSettings(env), ...overrides };
  const dataConverter = dataConverterFromEnv(env);
  const connection = await Connection.connect(temporalConnectionOptions(settings));
  return {
    client: new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) }),
    settings,
    close: () => connection.close(),
  };
}
