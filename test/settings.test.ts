/**
 * Connection settings from the environment: validation and option building (pure), then real
 * connections: plaintext to the jest dev server, and mTLS (+ API key) through a real TLS endpoint
 * (test/helpers/tls-proxy.ts: openssl-made certificates, an HTTP/2 TLS terminator in front of the
 * dev server), with both the client's Connection and the worker's NativeConnection; the same
 * from a profile of a `temporal.toml` (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), as envconfig reads it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connectClient } from '../client/series/connect';
import { TemporalConnectError, temporalConnectionOptions } from '../common/temporal/connection-options';
import { describeConnection, SettingsError, temporalSettings } from '../common/temporal/settings';
import { temporalAddress } from './helpers/harness';
import { createTestPki, startTlsProxy, type TestPki, type TlsProxy } from './helpers/tls-proxy';

const API_KEY = 'tmprl-api-key-SECRET-0123456789';

function settingsError(env: NodeJS.ProcessEnv): string {
  try {
    temporalSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return (err as Error).message;
  }
  throw new Error('expected a SettingsError');
}

describe('settings from the environment', () => {
  test('defaults: local plaintext server, default namespace and queue; empty values count as unset', () => {
    const expected = { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'sora-series', tls: false };
    expect(temporalSettings({})).toEqual(expected);
    expect(
      temporalSettings({ TEMPORAL_ADDRESS: '', TEMPORAL_TLS_CERT: ' ', TEMPORAL_API_KEY: '', TEMPORAL_TLS: '' }),
    ).toEqual(expected);
  });

  test('an address that is not host:port is refused with an example', () => {
    expect(settingsError({ TEMPORAL_ADDRESS: 'http://temporal:7233' })).toMatch(
      /TEMPORAL_ADDRESS: must be host:port, e\.g\./,
    );
    expect(temporalSettings({ TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233' }).address).toBe(
      'my-ns.a1b2c.tmprl.cloud:7233',
    );
    expect(temporalSettings({ TEMPORAL_ADDRESS: '[::1]:7233' }).address).toBe('[::1]:7233');
  });

  test('a client certificate without its key, or a key without its certificate, is refused naming both settings and the fix', () => {
    expect(settingsError({ TEMPORAL_TLS_CERT: '/certs/client.pem' })).toMatch(
      /TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not: .*set TEMPORAL_TLS_KEY to the key's PEM file, or unset TEMPORAL_TLS_CERT/,
    );
    expect(settingsError({ TEMPORAL_TLS_KEY: '/certs/client.key' })).toMatch(
      /TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not: .*set TEMPORAL_TLS_CERT to the certificate's PEM file/,
    );
  });

  test('every problem is named at once', () => {
    const message = settingsError({ TEMPORAL_ADDRESS: 'nope', TEMPORAL_TLS: 'maybe', TEMPORAL_TLS_KEY: '/k' });
    expect(message).toMatch(/TEMPORAL_ADDRESS: must be host:port/);
    expect(message).toMatch(/TEMPORAL_TLS: must be true or false/);
    expect(message).toMatch(/TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not/);
  });

  test('an API key turns TLS on (as Temporal Cloud needs), and is refused over plaintext', () => {
    expect(temporalSettings({ TEMPORAL_API_KEY: API_KEY })).toMatchObject({ tls: {}, apiKey: API_KEY });
    expect(
      temporalConnectionOptions(
        temporalSettings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: API_KEY }),
      ),
    ).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      tls: {},
      apiKey: API_KEY,
    });
    const refused = settingsError({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' });
    expect(refused).toMatch(/TEMPORAL_API_KEY is only sent over TLS: unset TEMPORAL_TLS=false/);
    expect(refused).not.toContain(API_KEY);
  });

  test('TLS on by a CA or server name alone, or by TEMPORAL_TLS=true; TEMPORAL_TLS=false contradicting TLS files is refused', () => {
    expect(temporalSettings({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(temporalSettings({ TEMPORAL_TLS: '1' }).tls).toEqual({});
    expect(temporalSettings({ TEMPORAL_TLS_CA: '/ca.pem' }).tls).toEqual({ serverCaPath: '/ca.pem' });
    expect(temporalSettings({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }).tls).toEqual({
      serverName: 'temporal.internal',
    });
    expect(settingsError({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: '/ca.pem', TEMPORAL_TLS_SERVER_NAME: 'x' })).toMatch(
      /TEMPORAL_TLS=false contradicts TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME: unset/,
    );
  });

  test("the temporal CLI's variable names work too; two names for one setting must agree", () => {
    const env = {
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/c.key',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/ca.pem',
    };
    expect(temporalSettings(env).tls).toEqual({
      clientCertPath: '/c.pem',
      clientKeyPath: '/c.key',
      serverCaPath: '/ca.pem',
    });
    expect(temporalSettings({ ...env, TEMPORAL_TLS_CERT: '/c.pem' }).tls).toMatchObject({ clientCertPath: '/c.pem' });
    expect(settingsError({ ...env, TEMPORAL_TLS_CERT: '/other.pem' })).toMatch(
      /TEMPORAL_TLS_CERT and TEMPORAL_TLS_CLIENT_CERT_PATH name different files: set only one/,
    );
  });

  test('the connection description for logs never holds the API key', () => {
    expect(describeConnection(temporalSettings({ TEMPORAL_API_KEY: API_KEY }))).toBe(
      '127.0.0.1:7233 namespace default (TLS, API key)',
    );
    expect(describeConnection(temporalSettings({}))).toBe('127.0.0.1:7233 namespace default (plaintext)');
  });
});

describe('settings from a temporal.toml profile', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sora-series-envconfig-'));
    file = join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.default]',
        'address = "localhost:7233"',
        '',
        '[profile.cloud]',
        'address = "ns.acct.tmprl.cloud:7233"',
        'namespace = "ns.acct"',
        `api_key = "${API_KEY}"`,
        '[profile.cloud.tls]',
        'client_cert_path = "/certs/client.pem"',
        'client_key_path = "/certs/client.key"',
        '[profile.cloud.grpc_meta]',
        'x-team = "series"',
        '',
        '[profile.broken]',
        'address = "http://temporal:7233"',
        '[profile.broken.tls]',
        'disabled = true',
        'client_cert_path = "/certs/client.pem"',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('TEMPORAL_PROFILE picks a profile of TEMPORAL_CONFIG_FILE: address, namespace, API key, TLS files, gRPC headers', () => {
    expect(temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' })).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      namespace: 'ns.acct',
      taskQueue: 'sora-series',
      tls: { clientCertPath: '/certs/client.pem', clientKeyPath: '/certs/client.key' },
      apiKey: API_KEY,
      metadata: { 'x-team': 'series' },
      profile: { name: 'cloud', file },
      origins: { clientCert: '[profile.cloud] tls.client_cert_path', clientKey: '[profile.cloud] tls.client_key_path' },
    });
    // no TEMPORAL_PROFILE: the "default" profile
    expect(temporalSettings({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({ address: 'localhost:7233', tls: false });
  });

  test('variables override the profile value by value, under our names and the CLI names alike', () => {
    const settings = temporalSettings({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_NAMESPACE: 'other.acct',
      TEMPORAL_TLS_CERT: '/elsewhere/client.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/elsewhere/client.key',
      SORA_SERIES_TASK_QUEUE: 'q',
    });
    expect(settings).toMatchObject({
      address: 'ns.acct.tmprl.cloud:7233',
      namespace: 'other.acct',
      taskQueue: 'q',
      tls: { clientCertPath: '/elsewhere/client.pem', clientKeyPath: '/elsewhere/client.key' },
      apiKey: API_KEY,
      origins: { clientCert: 'TEMPORAL_TLS_CERT', clientKey: 'TEMPORAL_TLS_CLIENT_KEY_PATH' },
    });
    expect(describeConnection(settings)).toBe(
      `ns.acct.tmprl.cloud:7233 namespace other.acct (mTLS, API key, profile cloud of ${file})`,
    );
  });

  test('the default file ($XDG_CONFIG_HOME/temporalio/temporal.toml) is read when TEMPORAL_CONFIG_FILE is unset', () => {
    const config = join(dir, 'xdg');
    mkdirSync(join(config, 'temporalio'), { recursive: true });
    writeFileSync(join(config, 'temporalio', 'temporal.toml'), readFileSync(file));
    expect(temporalSettings({ XDG_CONFIG_HOME: config, TEMPORAL_PROFILE: 'cloud' }).namespace).toBe('ns.acct');
    expect(temporalSettings({ XDG_CONFIG_HOME: join(dir, 'nothing-here') })).toMatchObject({
      address: '127.0.0.1:7233',
    });
  });

  test('a profile the file does not have is refused naming TEMPORAL_PROFILE, the file and the profiles it has', () => {
    expect(settingsError({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).toContain(
      `TEMPORAL_PROFILE: ${file} has no profile "prod" (it has default, cloud, broken): set TEMPORAL_PROFILE to one of those, or add [profile.prod] to the file`,
    );
    expect(settingsError({ TEMPORAL_PROFILE: 'prod', HOME: join(dir, 'no-home') })).toMatch(
      /TEMPORAL_PROFILE: profile "prod" is asked for but no config file was read: set TEMPORAL_CONFIG_FILE to the temporal.toml that has \[profile\.prod\], or unset TEMPORAL_PROFILE/,
    );
  });

  test('a missing, unreadable, malformed or misspelt file is refused naming TEMPORAL_CONFIG_FILE', () => {
    const missing = join(dir, 'nope.toml');
    expect(settingsError({ TEMPORAL_CONFIG_FILE: missing })).toContain(
      `TEMPORAL_CONFIG_FILE: ${missing}: cannot read it (ENOENT): point it at a readable temporal.toml, or unset it`,
    );
    expect(settingsError({ TEMPORAL_CONFIG_FILE: dir })).toContain(
      `TEMPORAL_CONFIG_FILE: ${dir}: cannot read it (EISDIR)`,
    );
    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.x\naddress = 1\n');
    expect(settingsError({ TEMPORAL_CONFIG_FILE: broken })).toMatch(
      new RegExp(
        `TEMPORAL_CONFIG_FILE: ${broken}: not a valid Temporal config file \\(Invalid TOML document: .*\\): fix it`,
      ),
    );
    const misspelt = join(dir, 'misspelt.toml');
    writeFileSync(misspelt, '[profile.default]\nadress = "temporal:7233"\n');
    expect(settingsError({ TEMPORAL_CONFIG_FILE: misspelt })).toMatch(
      /not a valid Temporal config file \(.*unrecognized.*adress\)/,
    );
  });

  test("a profile's own problems are named by profile and key, all at once, and the file is named once", () => {
    const message = settingsError({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'broken' });
    expect(message).toMatch(new RegExp(`^invalid Temporal connection settings \\(profile "broken" of ${file}, `));
    expect(message).toContain('[profile.broken] address: must be host:port');
    expect(message).toContain(
      '[profile.broken] tls.client_cert_path is set but [profile.broken] tls.client_key_path is not',
    );
    expect(message).toContain(
      '[profile.broken] tls.disabled = true contradicts [profile.broken] tls.client_cert_path: remove [profile.broken] tls.disabled',
    );
    // a variable fixes what it overrides
    expect(
      settingsError({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'broken', TEMPORAL_ADDRESS: 'ok:7233' }),
    ).not.toContain('[profile.broken] address');
  });

  test('an API key in a profile is refused over plaintext without being shown', () => {
    const message = settingsError({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_TLS: 'false' });
    expect(message).toContain('[profile.cloud] api_key is only sent over TLS: unset TEMPORAL_TLS=false');
    expect(message).not.toContain(API_KEY);
  });

  test('inline PEM (TEMPORAL_TLS_*_DATA) is used as given; a path and inline PEM for one file are refused', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const options = temporalConnectionOptions(temporalSettings({ TEMPORAL_TLS_SERVER_CA_CERT_DATA: pem }));
    expect(
      Buffer.from((options.tls as { serverRootCACertificate: Uint8Array }).serverRootCACertificate).toString(),
    ).toBe(pem.trim());
    expect(settingsError({ TEMPORAL_TLS_CA: '/ca.pem', TEMPORAL_TLS_SERVER_CA_CERT_DATA: pem })).toContain(
      'TEMPORAL_TLS_CA and TEMPORAL_TLS_SERVER_CA_CERT_DATA both give the server CA certificate: keep one of them',
    );
    expect(() => temporalConnectionOptions(temporalSettings({ TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'hello' }))).toThrow(
      'TEMPORAL_TLS_SERVER_CA_CERT_DATA: is not a PEM CA certificate: give the PEM text (-----BEGIN ...-----)',
    );
  });
});

describe('connection options: the files are read at start, and a bad one is named', () => {
  let pki: TestPki;
  beforeAll(() => (pki = createTestPki()));
  afterAll(() => pki?.remove());

  test('certificate, key and CA become the TLS config both connection kinds take', () => {
    const options = temporalConnectionOptions(
      temporalSettings({
        TEMPORAL_TLS_CERT: pki.clientCert,
        TEMPORAL_TLS_KEY: pki.clientKey,
        TEMPORAL_TLS_CA: pki.caCert,
        TEMPORAL_TLS_SERVER_NAME: pki.serverName,
      }),
    );
    expect(options.tls).toMatchObject({ serverNameOverride: pki.serverName });
    const tls = options.tls as Exclude<typeof options.tls, false>;
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toContain('BEGIN CERTIFICATE');
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toContain('PRIVATE KEY');
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toContain('BEGIN CERTIFICATE');
  });

  test('an unreadable file is named with its setting', () => {
    const missing = join(pki.dir, 'nope.pem');
    expect(() =>
      temporalConnectionOptions(temporalSettings({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: pki.clientKey })),
    ).toThrow(new SettingsError(`TEMPORAL_TLS_CERT: cannot read ${missing} (ENOENT): point it at a readable PEM file`));
    expect(() => temporalConnectionOptions(temporalSettings({ TEMPORAL_TLS_CA: pki.dir }))).toThrow(
      /TEMPORAL_TLS_CA: cannot read .* \(EISDIR\)/,
    );
  });

  test('a certificate and key given the wrong way round are caught before any handshake', () => {
    expect(() =>
      temporalConnectionOptions(
        temporalSettings({ TEMPORAL_TLS_CERT: pki.clientKey, TEMPORAL_TLS_KEY: pki.clientCert }),
      ),
    ).toThrow(/TEMPORAL_TLS_CERT: .*client\.key is not a PEM certificate/);
    const notPem = join(pki.dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    expect(() =>
      temporalConnectionOptions(temporalSettings({ TEMPORAL_TLS_CERT: pki.clientCert, TEMPORAL_TLS_KEY: notPem })),
    ).toThrow(/TEMPORAL_TLS_KEY: .* is not a PEM private key/);
  });
});

describe('real connections built from settings', () => {
  test('plain settings reach the dev server, from the client and from a worker connection', async () => {
    const env = {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: process.env.TEMPORAL_TEST_NAMESPACE ?? 'default',
    };
    const { client, settings, close } = await connectClient({}, env);
    try {
      expect(settings.tls).toBe(false);
      const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: settings.namespace });
      expect(namespaceInfo?.name).toBe(settings.namespace);
    } finally {
      await close();
    }
    const native = await NativeConnection.connect(temporalConnectionOptions(temporalSettings(env)));
    await native.close();
  });

  test('no server at the address: the error names the connection tried and the settings to check', async () => {
    const refused = connectClient({}, { TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_NAMESPACE: 'ns-x' });
    await expect(refused).rejects.toThrow(TemporalConnectError);
    await expect(refused).rejects.toThrow(
      /^cannot connect to Temporal at 127\.0\.0\.1:1 namespace ns-x \(plaintext\): .+; check that a server runs there .*TEMPORAL_ADDRESS/,
    );
  }, 30_000);

  describe('mTLS and an API key through a real TLS endpoint', () => {
    let pki: TestPki;
    let proxy: TlsProxy;
    let tlsEnv: NodeJS.ProcessEnv;

    beforeAll(async () => {
      pki = createTestPki();
      proxy = await startTlsProxy(pki, temporalAddress());
      tlsEnv = {
        TEMPORAL_ADDRESS: proxy.address,
        TEMPORAL_TLS_CERT: pki.clientCert,
        TEMPORAL_TLS_KEY: pki.clientKey,
        TEMPORAL_TLS_CA: pki.caCert,
        TEMPORAL_TLS_SERVER_NAME: pki.serverName,
        TEMPORAL_API_KEY: API_KEY,
      };
    });
    afterAll(async () => {
      await proxy?.close();
      pki?.remove();
    });

    const connectShort = (env: NodeJS.ProcessEnv) =>
      Connection.connect({ ...temporalConnectionOptions(temporalSettings(env)), connectTimeout: 3_000 });

    test('the client connects with certificate, key, CA and server name, and its API key arrives as a bearer token', async () => {
      const before = proxy.seen.length;
      const { client, close } = await connectClient({}, tlsEnv);
      try {
        const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: 'default' });
        expect(namespaceInfo?.name).toBe('default');
      } finally {
        await close();
      }
      const calls = proxy.seen.slice(before);
      expect(calls.map((h) => h[':path'])).toContain(
        '/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace',
      );
      expect(calls.every((h) => h.authorization === `Bearer ${API_KEY}`)).toBe(true);
    });

    test("the worker's NativeConnection connects with the same options", async () => {
      const before = proxy.seen.length;
      const native = await NativeConnection.connect(temporalConnectionOptions(temporalSettings(tlsEnv)));
      try {
        await native.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await native.close();
      }
      const calls = proxy.seen.slice(before);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((h) => h.authorization === `Bearer ${API_KEY}`)).toBe(true);
    });

    test('a temporal.toml profile (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE) connects the same way, with its gRPC headers', async () => {
      const file = join(pki.dir, 'temporal.toml');
      writeFileSync(
        file,
        [
          '[profile.front]',
          `address = "${proxy.address}"`,
          `api_key = "${API_KEY}"`,
          '[profile.front.tls]',
          `client_cert_path = "${pki.clientCert}"`,
          `client_key_path = "${pki.clientKey}"`,
          `server_ca_cert_path = "${pki.caCert}"`,
          `server_name = "${pki.serverName}"`,
          '[profile.front.grpc_meta]',
          'x-sora-series = "profile"',
        ].join('\n'),
      );
      const before = proxy.seen.length;
      const { client, settings, close } = await connectClient(
        {},
        { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'front' },
      );
      try {
        expect(settings.profile).toEqual({ name: 'front', file });
        await client.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await close();
      }
      const native = await NativeConnection.connect(
        temporalConnectionOptions(temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'front' })),
      );
      try {
        await native.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await native.close();
      }
      const calls = proxy.seen.slice(before);
      expect(calls.length).toBeGreaterThan(1);
      expect(calls.every((h) => h.authorization === `Bearer ${API_KEY}` && h['x-sora-series'] === 'profile')).toBe(
        true,
      );
    });

    test('refused: no client certificate, a CA that did not sign the server, the wrong server name, or plaintext', async () => {
      const refusedBefore = proxy.refusedHandshakes;
      const { TEMPORAL_TLS_CERT: _c, TEMPORAL_TLS_KEY: _k, ...noClientCert } = tlsEnv;
      await expect(connectShort(noClientCert)).rejects.toThrow();
      expect(proxy.refusedHandshakes).toBeGreaterThan(refusedBefore);
      await expect(connectShort({ ...tlsEnv, TEMPORAL_TLS_CA: pki.otherCaCert })).rejects.toThrow();
      await expect(connectShort({ ...tlsEnv, TEMPORAL_TLS_SERVER_NAME: 'someone-else.test' })).rejects.toThrow();
      await expect(connectShort({ TEMPORAL_ADDRESS: proxy.address })).rejects.toThrow();
      await expect(
        NativeConnection.connect(
          temporalConnectionOptions(temporalSettings({ ...tlsEnv, TEMPORAL_TLS_CA: pki.otherCaCert })),
        ),
      ).rejects.toThrow();
    });
  });
});
