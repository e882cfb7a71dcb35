/**
 * A real mTLS endpoint for Temporal without a TLS-enabled server: certificates made by the
 * openssl binary, and an HTTP/2 TLS terminator that requires a client certificate and forwards
 * every gRPC call to the plaintext dev server, recording the request headers it saw (so a test
 * can tell an API key arrived, and arrived only over TLS).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  connect,
  constants,
  createSecureServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting it instead must fail the handshake. */
  otherCaCert: string;
  /** The only name in the server certificate. */
  serverName: string;
  remove(): void;
}

const openssl = (dir: string, args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function selfSignedCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function signedLeaf(dir: string, name: string, extensions: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

export function createTestPki(serverName = 'temporal.test'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sora-series-pki-'));
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  signedLeaf(
    dir,
    'server',
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${serverName}\n`,
  );
  signedLeaf(
    dir,
    'client',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    otherCaCert: join(dir, 'other-ca.pem'),
    serverName,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsProxy {
  address: string;
  /** Request headers of every forwarded call, in arrival order. */
  seen: IncomingHttpHeaders[];
  /** TLS handshakes refused (no or untrusted client certificate, ...). */
  refusedHandshakes: number;
  close(): Promise<void>;
}

const HOP_HEADERS = new Set([
  ':method',
  ':path',
  ':scheme',
  ':authority',
  ':status',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_HEADERS.has(name)));
}

/** mTLS in front of a plaintext gRPC `backend` (host:port). */
export function startTlsProxy(pki: TestPki, backend: string): Promise<TlsProxy> {
  const upstream = connect(`http://${backend}`);
  upstream.on('error', () => undefined);
  const proxy: TlsProxy = { address: '', seen: [], refusedHandshakes: 0, close: async () => undefined };
  const server = createSecureServer({
    key: readFileSync(pki.serverKey),
    cert: readFileSync(pki.serverCert),
    ca: readFileSync(pki.caCert),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('tlsClientError', () => proxy.refusedHandshakes++);
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    proxy.seen.push(headers);
    const call = upstream.request({
      [constants.HTTP2_HEADER_METHOD]: headers[':method'],
      [constants.HTTP2_HEADER_PATH]: headers[':path'],
      ...forwardable(headers),
    });
    let trailers: OutgoingHttpHeaders = {};
    call.on('response', (response) => {
      const status = response[':status'] ?? 200;
      stream.respond({ ':status': status, ...forwardable(response) }, { waitForTrailers: true });
    });
    call.on('trailers', (t) => (trailers = forwardable(t)));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    call.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('error', () => call.close(constants.NGHTTP2_CANCEL));
    stream.pipe(call);
    call.pipe(stream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      proxy.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      proxy.close = () =>
        new Promise<void>((done) => {
          upstream.close();
          for (const session of sessions) session.destroy();
          server.close(() => done());
        });
      resolve(proxy);
    });
  });
}
