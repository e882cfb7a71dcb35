import { Client, Connection } from '@temporalio/client';
import { temporalSettings, type TemporalSettings } from './settings';

export interface ConnectedClient {
  client: Client;
  settings: TemporalSettings;
  close(): Promise<void>;
}

/** A Temporal client from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SORA_SERIES_TASK_QUEUE). */
export async function connectClient(overrides: Partial<TemporalSettings> = {}): Promise<ConnectedClient> {
  const settings = { ...temporalSettings(), ...overrides };
  const connection = await Connection.connect({ address: settings.address });
  return { client: new Client({ connection, namespace: settings.namespace }), settings, close: () => connection.close() };
}
