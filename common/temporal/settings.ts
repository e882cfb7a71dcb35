import { z } from 'zod';

/**
 * Where Temporal is, how to reach it and which queue the series run on; read from the
 * environment by client, worker and codec server alike, so the same process runs against the
 * dev server, the compose stack or Temporal Cloud by changing variables only.
 */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** false: plaintext gRPC (dev server, compose stack). */
  tls: TlsSettings | false;
  /** Sent as `Authorization: Bearer ...` (Temporal Cloud API keys). A secret: never log it. */
  apiKey?: string;
}

/** File paths, not contents: {@link temporalConnectionOptions} reads them, naming the setting if one is unreadable. */
export interface TlsSettings {
  /** Client certificate and private key (PEM) for mTLS; both or neither. */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** CA (PEM) that signed the server's certificate; unset: the system's trusted roots (Temporal Cloud). */
  serverCaPath?: string;
  /** Name the server's certificate is checked against, when it is not the host in the address. */
  serverName?: string;
}

export const DEFAULT_TASK_QUEUE = 'sora-series';
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** Every variable this module reads (the compose test checks the compose file against it). */
export const TEMPORAL_ENV = {
  address: 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  taskQueue: 'SORA_SERIES_TASK_QUEUE',
  tls: 'TEMPORAL_TLS',
  clientCert: 'TEMPORAL_TLS_CERT',
  clientKey: 'TEMPORAL_TLS_KEY',
  serverCa: 'TEMPORAL_TLS_CA',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
  apiKey: 'TEMPORAL_API_KEY',
} as const;

/**
 * The same files under the names the `temporal` CLI and Temporal's client env config use, so
 * one environment serves both. Setting both names to different files is refused.
 */
export const TEMPORAL_ENV_ALIASES: Readonly<Record<string, string>> = {
  [TEMPORAL_ENV.clientCert]: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  [TEMPORAL_ENV.clientKey]: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  [TEMPORAL_ENV.serverCa]: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
};

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

// Compose passes `${VAR:-}` as an empty string: empty means unset everywhere here.
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const settingsSchema = z.object({
  TEMPORAL_ADDRESS: optional.pipe(
    z
      .string()
      .regex(
        /^([^\s:/[\]]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/,
        'must be host:port, e.g. 127.0.0.1:7233 or my-ns.a1b2c.tmprl.cloud:7233',
      )
      .default(DEFAULT_TEMPORAL_ADDRESS),
  ),
  TEMPORAL_NAMESPACE: optional.pipe(z.string().default('default')),
  SORA_SERIES_TASK_QUEUE: optional.pipe(z.string().default(DEFAULT_TASK_QUEUE)),
  TEMPORAL_TLS: optional.pipe(
    z
      .enum(['true', 'false', '1', '0'], {
        error: 'must be true or false (or 1/0); unset: on when a certificate, CA, server name or API key is set',
      })
      .transform((v) => v === 'true' || v === '1')
      .optional(),
  ),
  TEMPORAL_TLS_SERVER_NAME: optional,
  TEMPORAL_API_KEY: optional,
});

/** A path setting under its own name or its alias; both set to different values is an error. */
function pathSetting(env: NodeJS.ProcessEnv, name: string, problems: string[]): string | undefined {
  const alias = TEMPORAL_ENV_ALIASES[name];
  const own = env[name]?.trim() || undefined;
  const aliased = alias ? env[alias]?.trim() || undefined : undefined;
  if (own && aliased && own !== aliased)
    problems.push(`${name} and ${alias} name different files: set only one of them`);
  return own ?? aliased;
}

/** Reads and checks the settings; every problem is named, with its fix, in one {@link SettingsError}. */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const parsed = settingsSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
  const clientCertPath = pathSetting(env, TEMPORAL_ENV.clientCert, problems);
  const clientKeyPath = pathSetting(env, TEMPORAL_ENV.clientKey, problems);
  const serverCaPath = pathSetting(env, TEMPORAL_ENV.serverCa, problems);
  if (clientCertPath && !clientKeyPath) {
    problems.push(
      `${TEMPORAL_ENV.clientCert} is set but ${TEMPORAL_ENV.clientKey} is not: mTLS needs the client certificate and its private key; set ${TEMPORAL_ENV.clientKey} to the key's PEM file, or unset ${TEMPORAL_ENV.clientCert}`,
    );
  }
  if (clientKeyPath && !clientCertPath) {
    problems.push(
      `${TEMPORAL_ENV.clientKey} is set but ${TEMPORAL_ENV.clientCert} is not: mTLS needs the client certificate and its private key; set ${TEMPORAL_ENV.clientCert} to the certificate's PEM file, or unset ${TEMPORAL_ENV.clientKey}`,
    );
  }
  if (!parsed.success || problems.length > 0)
    throw new SettingsError(`invalid Temporal connection settings:\n  - ${problems.join('\n  - ')}`);

  const data = parsed.data;
  const tlsOptions = { clientCertPath, clientKeyPath, serverCaPath, serverName: data.TEMPORAL_TLS_SERVER_NAME };
  const tlsNamed = Object.entries(tlsOptions).filter(([, v]) => v !== undefined);
  if (data.TEMPORAL_TLS === false) {
    const contradicted = [
      ...(clientCertPath ? [TEMPORAL_ENV.clientCert] : []),
      ...(clientKeyPath ? [TEMPORAL_ENV.clientKey] : []),
      ...(serverCaPath ? [TEMPORAL_ENV.serverCa] : []),
      ...(data.TEMPORAL_TLS_SERVER_NAME ? [TEMPORAL_ENV.serverName] : []),
    ];
    if (contradicted.length > 0)
      throw new SettingsError(
        `TEMPORAL_TLS=false contradicts ${contradicted.join(', ')}: unset TEMPORAL_TLS, or unset those`,
      );
    // A key sent in clear could be read off the wire; Temporal Cloud refuses plaintext anyway.
    if (data.TEMPORAL_API_KEY)
      throw new SettingsError(
        'TEMPORAL_API_KEY is only sent over TLS: unset TEMPORAL_TLS=false (the API key turns TLS on by itself), or unset TEMPORAL_API_KEY',
      );
  }
  const tlsOn = data.TEMPORAL_TLS ?? (tlsNamed.length > 0 || data.TEMPORAL_API_KEY !== undefined);
  return {
    address: data.TEMPORAL_ADDRESS,
    namespace: data.TEMPORAL_NAMESPACE,
    taskQueue: data.SORA_SERIES_TASK_QUEUE,
    tls: tlsOn ? Object.fromEntries(tlsNamed) : false,
    ...(data.TEMPORAL_API_KEY ? { apiKey: data.TEMPORAL_API_KEY } : {}),
  };
}

/** For logs: how the connection is made, without any secret. */
export function describeConnection(settings: TemporalSettings): string {
  const tls = settings.tls === false ? 'plaintext' : settings.tls.clientCertPath ? 'mTLS' : 'TLS';
  return `${settings.address} namespace ${settings.namespace} (${tls}${settings.apiKey ? ', API key' : ''})`;
}
