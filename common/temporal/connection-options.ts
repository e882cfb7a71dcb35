import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { describeConnection, SettingsError, TEMPORAL_ENV, type TemporalSettings, type TlsPem } from './settings';

/**
 * No connection to the Temporal server: the SDK's own words ("Failed to connect before the deadline")
 * name neither the server tried nor the settings that chose it, so this does (never a key).
 */
export class TemporalConnectError extends Error {
  override readonly name = 'TemporalConnectError';
  constructor(settings: TemporalSettings, cause: unknown) {
    super(
      `cannot connect to Temporal at ${describeConnection(settings)}: ${cause instanceof Error ? cause.message : String(cause)}; ` +
        'check that a server runs there (`sora-series dev` starts one) and the connection settings (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, TLS, API key)',
      { cause },
    );
  }
}

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export interface TemporalConnectionOptions {
  address: string;
  /** false: plaintext. */
  tls: TLSConfig | false;
  apiKey?: string;
  metadata?: Record<string, string>;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** A certificate, key or CA from its file or inline text, checked to be PEM of the expected kind. */
function readPem(
  source: { path?: string; data?: string },
  setting: string,
  expect: RegExp,
  what: string,
): Buffer | undefined {
  let content: Buffer;
  if (source.data !== undefined) content = Buffer.from(source.data);
  else if (source.path !== undefined) {
    try {
      content = readFileSync(source.path);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new SettingsError(`${setting}: cannot read ${source.path} (${reason}): point it at a readable PEM file`);
    }
  } else return undefined;
  // Catches a swapped certificate and key, or a DER file, before the TLS handshake fails obscurely.
  if (!expect.test(content.toString('latin1')))
    throw new SettingsError(
      source.path !== undefined
        ? `${setting}: ${source.path} is not a PEM ${what}: point it at the PEM file (-----BEGIN ...-----)`
        : `${setting}: is not a PEM ${what}: give the PEM text (-----BEGIN ...-----)`,
    );
  return content;
}

/** The one place connection options are built: the files are read here, at start, naming the setting of any that fails. */
export function temporalConnectionOptions(settings: TemporalSettings): TemporalConnectionOptions {
  const { tls } = settings;
  const base = {
    address: settings.address,
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
  if (tls === false) return { ...base, tls: false };
  const setting = (pem: TlsPem) => settings.origins?.[pem] ?? TEMPORAL_ENV[pem];
  const ca = readPem(
    { path: tls.serverCaPath, data: tls.serverCaData },
    setting('serverCa'),
    CERTIFICATE,
    'CA certificate',
  );
  const crt = readPem(
    { path: tls.clientCertPath, data: tls.clientCertData },
    setting('clientCert'),
    CERTIFICATE,
    'certificate',
  );
  const key = readPem(
    { path: tls.clientKeyPath, data: tls.clientKeyData },
    setting('clientKey'),
    PRIVATE_KEY,
    'private key',
  );
  return {
    ...base,
    tls: {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    },
  };
}
