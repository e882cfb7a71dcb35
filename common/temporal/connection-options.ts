import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { SettingsError, TEMPORAL_ENV, type TemporalSettings } from './settings';

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export interface TemporalConnectionOptions {
  address: string;
  /** false: plaintext. */
  tls: TLSConfig | false;
  apiKey?: string;
}

function readPem(path: string, setting: string, expect: RegExp, what: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new SettingsError(`${setting}: cannot read ${path} (${reason}): point it at a readable PEM file`);
  }
  // Catches a swapped certificate and key, or a DER file, before the TLS handshake fails obscurely.
  if (!expect.test(content.toString('latin1')))
    throw new SettingsError(`${setting}: ${path} is not a PEM ${what}: point it at the PEM file (-----BEGIN ...-----)`);
  return content;
}

/** The one place connection options are built: the files are read here, at start, naming the setting of any that fails. */
export function temporalConnectionOptions(settings: TemporalSettings): TemporalConnectionOptions {
  const { tls } = settings;
  const base = { address: settings.address, ...(settings.apiKey ? { apiKey: settings.apiKey } : {}) };
  if (tls === false) return { ...base, tls: false };
  const certificate = /-----BEGIN CERTIFICATE-----/;
  return {
    ...base,
    tls: {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.serverCaPath
        ? { serverRootCACertificate: readPem(tls.serverCaPath, TEMPORAL_ENV.serverCa, certificate, 'CA certificate') }
        : {}),
      ...(tls.clientCertPath && tls.clientKeyPath
        ? {
            clientCertPair: {
              crt: readPem(tls.clientCertPath, TEMPORAL_ENV.clientCert, certificate, 'certificate'),
              key: readPem(
                tls.clientKeyPath,
                TEMPORAL_ENV.clientKey,
                /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
                'private key',
              ),
            },
          }
        : {}),
    },
  };
}
