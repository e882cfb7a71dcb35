import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { z } from 'zod';
import { CONFIG_FILE_ENV, PROFILE_ENV, readConfigFile, type ConfigFile } from './config-file';

/**
 * Where Temporal is, how to reach it and which queue the series run on. Read the way the
 * `temporal` CLI and every SDK read them (envconfig: a profile of a `temporal.toml`, then the
 * `TEMPORAL_*` variables over it), by client, worker and codec server alike, so the same process
 * runs against the dev server, the compose stack or Temporal Cloud by changing settings only.
 */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** false: plaintext gRPC (dev server, compose stack). */
  tls: TlsSettings | false;
  /** Sent as `Authorization: Bearer ...` (Temporal Cloud API keys). A secret: never log it. */
  apiKey?: string;
  /** gRPC headers sent with every call (`grpc_meta` of a profile, `TEMPORAL_GRPC_META_*`); may hold secrets. */
  metadata?: Record<string, string>;
  /** The config file profile the settings started from, when a file supplied one. */
  profile?: { name: string; file: string };
  /** Which setting gave each certificate, key or CA, so a message about one names where to fix it. */
  origins?: Partial<Record<TlsPem, string>>;
}

export type TlsPem = 'clientCert' | 'clientKey' | 'serverCa';

/** Paths or inline PEM, not contents read: {@link temporalConnectionOptions} reads them, naming the setting if one is bad. */
export interface TlsSettings {
  /** Client certificate and private key (PEM) for mTLS; both or neither. */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** CA (PEM) that signed the server's certificate; unset: the system's trusted roots (Temporal Cloud). */
  serverCaPath?: string;
  /** The same, given as PEM text (`TEMPORAL_TLS_*_DATA`, `*_data` in a profile) instead of a file. */
  clientCertData?: string;
  clientKeyData?: string;
  serverCaData?: string;
  /** Name the server's certificate is checked against, when it is not the host in the address. */
  serverName?: string;
}

export const DEFAULT_TASK_QUEUE = 'sora-series';
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
const DEFAULT_NAMESPACE = 'default';

/** The variables read under this project's names (the compose test checks the compose file against them). */
export const TEMPORAL_ENV = {
  configFile: CONFIG_FILE_ENV,
  profile: PROFILE_ENV,
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
 * Each certificate, key and CA under the project's short name, envconfig's (and the `temporal`
 * CLI's) path name, its inline-PEM name, and its key in a profile's `[tls]` table: one
 * environment serves this project and the CLI.
 */
const PEM_SETTINGS: Record<
  TlsPem,
  { own: string; path: string; data: string; toml: string; noun: string; short: string }
> = {
  clientCert: {
    own: TEMPORAL_ENV.clientCert,
    path: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
    data: 'TEMPORAL_TLS_CLIENT_CERT_DATA',
    toml: 'tls.client_cert',
    noun: 'client certificate',
    short: 'certificate',
  },
  clientKey: {
    own: TEMPORAL_ENV.clientKey,
    path: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
    data: 'TEMPORAL_TLS_CLIENT_KEY_DATA',
    toml: 'tls.client_key',
    noun: 'client key',
    short: 'key',
  },
  serverCa: {
    own: TEMPORAL_ENV.serverCa,
    path: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    data: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
    toml: 'tls.server_ca_cert',
    noun: 'server CA certificate',
    short: 'CA certificate',
  },
};
const PEMS = Object.keys(PEM_SETTINGS) as TlsPem[];

/** The SDK cannot honour it, and quietly verifying anyway would confuse whoever set it. */
const DISABLE_HOST_VERIFICATION_ENV = 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION';

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const addressSchema = z
  .string({ error: 'must be host:port, e.g. 127.0.0.1:7233 or my-ns.a1b2c.tmprl.cloud:7233' })
  .regex(
    /^([^\s:/[\]]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/,
    'must be host:port, e.g. 127.0.0.1:7233 or my-ns.a1b2c.tmprl.cloud:7233',
  );
const tlsFlagSchema = z.enum(['true', 'false', '1', '0'], {
  error: 'must be true or false (or 1/0); unset: on when a certificate, CA, server name or API key is set',
});
const textSchema = z.string({ error: 'must be a string' }).min(1, 'must not be empty');

/** Compose passes `${VAR:-}` as an empty string: empty means unset everywhere here. */
function presentVars(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).flatMap(([name, value]) => (value?.trim() ? [[name, value.trim()]] : [])),
  );
}

const isVariable = (origin: string) => /^[A-Z][A-Z0-9_]*$/.test(origin);
const undo = (origin: string) => (isVariable(origin) ? `unset ${origin}` : `remove ${origin}`);

type Origins = Partial<Record<TlsPem, string>>;

/**
 * The variables as envconfig reads them (the CLI's names: ours are handed over under those), and
 * which setting gives each certificate, key and CA. A path and inline PEM for one file make
 * envconfig throw, so that collision is named here, with both settings.
 */
function forEnvconfig(vars: Record<string, string>, file: ConfigFile | undefined, problems: string[]) {
  const handed: Record<string, string> = { ...vars };
  for (const name of [CONFIG_FILE_ENV, PROFILE_ENV, TEMPORAL_ENV.tls]) delete handed[name];
  const origins: Origins = {};
  let collides = false;
  for (const pem of PEMS) {
    const s = PEM_SETTINGS[pem];
    const [own, aliased] = [vars[s.own], vars[s.path]];
    if (own && aliased && own !== aliased)
      problems.push(`${s.own} and ${s.path} name different files: set only one of them`);
    delete handed[s.own];
    if (own || aliased) handed[s.path] = own ?? aliased;
    const fromFile = file?.profile?.tls?.[pem === 'serverCa' ? 'serverCACert' : pem];
    const pathFrom = own
      ? s.own
      : aliased
        ? s.path
        : fromFile && 'path' in fromFile
          ? file?.label(`${s.toml}_path`)
          : undefined;
    const dataFrom = vars[s.data] ? s.data : fromFile && 'data' in fromFile ? file?.label(`${s.toml}_data`) : undefined;
    if (pathFrom && dataFrom) {
      collides = true;
      problems.push(`${pathFrom} and ${dataFrom} both give the ${s.noun}: keep one of them`);
    }
    if (pathFrom || dataFrom) origins[pem] = (pathFrom ?? dataFrom)!;
  }
  const flag = vars[TEMPORAL_ENV.tls];
  if (flag !== undefined) {
    const parsed = tlsFlagSchema.safeParse(flag.toLowerCase());
    if (parsed.success) handed[TEMPORAL_ENV.tls] = String(parsed.data === 'true' || parsed.data === '1');
    else problems.push(`${TEMPORAL_ENV.tls}: ${parsed.error.issues[0].message}`);
  }
  if (/^(true|1)$/i.test(vars[DISABLE_HOST_VERIFICATION_ENV] ?? ''))
    problems.push(
      `${DISABLE_HOST_VERIFICATION_ENV}: the TypeScript SDK always verifies the server's certificate: unset it; if the certificate names another host, set ${TEMPORAL_ENV.serverName} to that name`,
    );
  return { handed, origins, collides };
}

/** A client certificate needs its key and the other way round; the missing one is named in the family of the given one. */
function pairProblems(origins: Origins, file: ConfigFile | undefined): string[] {
  const pairs = [
    ['clientCert', 'clientKey'],
    ['clientKey', 'clientCert'],
  ] as const;
  return pairs.flatMap(([has, lacks]) => {
    const given = origins[has];
    if (!given || origins[lacks]) return [];
    const [ours, theirs] = [PEM_SETTINGS[has], PEM_SETTINGS[lacks]];
    const family = (['own', 'path', 'data'] as const).find((f) => ours[f] === given);
    const missing = family ? theirs[family] : (file?.label(`${theirs.toml}_path`) ?? theirs.path);
    return [
      `${given} is set but ${missing} is not: mTLS needs the client certificate and its private key; set ${missing} to the ${theirs.short}'s PEM ${family === 'data' ? 'text' : 'file'}, or ${undo(given)}`,
    ];
  });
}

/** Reads and checks the settings; every problem is named, with its fix, in one {@link SettingsError}. */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const vars = presentVars(env);
  const problems: string[] = [];
  const file = readConfigFile(vars, problems);
  /** The variable that gave a value, else where in the profile it came from. */
  const originOf = (name: string, key: string) => (vars[name] !== undefined ? name : (file?.label(key) ?? key));
  const { handed, origins, collides } = forEnvconfig(vars, file, problems);

  let merged: ClientConfigProfile = {};
  if (!collides) {
    try {
      merged = loadClientConfigProfile({
        ...(file?.profile ? { profile: file.profileName } : {}),
        ...(file ? { configSource: { data: file.text }, configFileStrict: true } : { disableFile: true }),
        overrideEnvVars: handed,
      });
    } catch (err) {
      problems.push(`${file?.path ?? 'environment'}: ${(err as Error).message}: fix the setting it names`);
    }
  }

  const check = <T>(schema: z.ZodType<T>, value: unknown, origin: string): T | undefined => {
    if (value === undefined) return undefined;
    const parsed = schema.safeParse(value);
    if (!parsed.success) problems.push(`${origin}: ${parsed.error.issues[0].message}`);
    return parsed.data;
  };
  const address = check(addressSchema, merged.address, originOf(TEMPORAL_ENV.address, 'address'));
  const namespace = check(textSchema, merged.namespace, originOf(TEMPORAL_ENV.namespace, 'namespace'));
  const apiKeyFrom = originOf(TEMPORAL_ENV.apiKey, 'api_key');
  const apiKey = check(textSchema, merged.apiKey, apiKeyFrom);
  const tls = merged.tls ?? {};
  const serverNameFrom = originOf(TEMPORAL_ENV.serverName, 'tls.server_name');
  const serverName = check(textSchema, tls.serverName, serverNameFrom);
  const pemOf = (source: ConfigDataSource | undefined, pem: TlsPem) => {
    if (!source) return {};
    if ('data' in source)
      return { data: typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8') };
    return { path: check(textSchema, source.path, origins[pem]!) };
  };
  const [cert, key, ca] = [
    pemOf(tls.clientCert, 'clientCert'),
    pemOf(tls.clientKey, 'clientKey'),
    pemOf(tls.serverCACert, 'serverCa'),
  ];
  problems.push(...pairProblems(origins, file));

  if (tls.disabled === true) {
    const byEnv = handed[TEMPORAL_ENV.tls] === 'false';
    const disabledBy = byEnv ? `${TEMPORAL_ENV.tls}=false` : `${file?.label('tls.disabled')} = true`;
    const enable = byEnv ? `unset ${TEMPORAL_ENV.tls}` : `remove ${file?.label('tls.disabled')}`;
    const contradicted = [...PEMS.flatMap((pem) => origins[pem] ?? []), ...(serverName ? [serverNameFrom] : [])];
    if (contradicted.length > 0)
      problems.push(`${disabledBy} contradicts ${contradicted.join(', ')}: ${enable}, or unset those`);
    // A key sent in clear could be read off the wire; Temporal Cloud refuses plaintext anyway.
    if (apiKey)
      problems.push(
        `${apiKeyFrom} is only sent over TLS: ${byEnv ? `unset ${disabledBy}` : enable} (the API key turns TLS on by itself), or ${undo(apiKeyFrom)}`,
      );
  }
  if (problems.length > 0) {
    const from = file?.profile ? ` (profile "${file.profileName}" of ${file.path}, TEMPORAL_* variables over it)` : '';
    throw new SettingsError(`invalid Temporal connection settings${from}:\n  - ${problems.join('\n  - ')}`);
  }

  const tlsSettings: TlsSettings = Object.fromEntries(
    Object.entries({
      clientCertPath: cert.path,
      clientKeyPath: key.path,
      serverCaPath: ca.path,
      clientCertData: cert.data,
      clientKeyData: key.data,
      serverCaData: ca.data,
      serverName,
    }).filter(([, v]) => v !== undefined),
  );
  // As envconfig decides: any TLS setting or an API key turns TLS on, unless it is switched off.
  const tlsOn = tls.disabled !== true && (merged.tls !== undefined || apiKey !== undefined);
  const metadata = merged.grpcMeta && Object.keys(merged.grpcMeta).length > 0 ? merged.grpcMeta : undefined;
  return {
    address: address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: namespace ?? DEFAULT_NAMESPACE,
    taskQueue: vars[TEMPORAL_ENV.taskQueue] ?? DEFAULT_TASK_QUEUE,
    tls: tlsOn ? tlsSettings : false,
    ...(apiKey ? { apiKey } : {}),
    ...(metadata ? { metadata } : {}),
    ...(file?.profile ? { profile: { name: file.profileName, file: file.path } } : {}),
    ...(tlsOn && Object.keys(origins).length > 0 ? { origins } : {}),
  };
}

/** For logs: how the connection is made, without any secret. */
export function describeConnection(settings: TemporalSettings): string {
  const tls =
    settings.tls === false ? 'plaintext' : settings.tls.clientCertPath || settings.tls.clientCertData ? 'mTLS' : 'TLS';
  const profile = settings.profile ? `, profile ${settings.profile.name} of ${settings.profile.file}` : '';
  return `${settings.address} namespace ${settings.namespace} (${tls}${settings.apiKey ? ', API key' : ''}${profile})`;
}
