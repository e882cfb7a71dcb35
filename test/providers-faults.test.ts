/**
 * Upstream misbehaviour the simulator does not stage (yet): throttling with Retry-After, 5xx,
 * bodies that break the contract, stalled downloads, CDN URLs. A tiny scripted HTTP server
 * answers each request with whatever the test queued.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseProviderConfig } from '../activities/providers/config';
import type { VideoProvider } from '../activities/providers/provider';
import { createProviders } from '../activities/providers/registry';
import { providerError } from './helpers/provider-calls';

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Send headers and the first bytes, then hang. */
  stallAfterBytes?: Buffer;
}

let server: Server;
let base: string;
const queue: Scripted[] = [];
const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Scripted => ({
  status,
  body: JSON.stringify(value),
  headers: { 'content-type': 'application/json', ...headers },
});

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    const next = queue.shift() ?? json(500, { error: { code: 'unscripted', message: 'no scripted answer' } });
    res.writeHead(next.status, next.headers);
    if (next.stallAfterBytes) {
      res.write(next.stallAfterBytes);
      return; // never ends: the client's idle timeout must fire
    }
    res.end(next.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  queue.length = 0;
  seen.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function providers(): { relay: VideoProvider; official: VideoProvider } {
  const config = parseProviderConfig({
    providers: [
      { name: 'relay', contract: 'relay-v1', baseUrl: `${base}/relay`, keyEnv: 'K_RELAY', timeoutMs: 500 },
      { name: 'official', contract: 'official', baseUrl: `${base}/v1`, keyEnv: 'K_OFFICIAL', timeoutMs: 500 },
    ],
  });
  const map = createProviders(config, { K_RELAY: 'relay-secret-value', K_OFFICIAL: 'sk-official-secret-value' });
  return { relay: map.get('relay')!, official: map.get('official')! };
}

const relaySubmit = { prompt: 'p', seconds: 10, size: '720x1280', idempotencyKey: 'k-1' };
const officialSubmit = { prompt: 'p', seconds: 4, size: '720x1280', idempotencyKey: 'k-1' };

describe.each(['relay', 'official'] as const)('%s', (which) => {
  const submit = (p: ReturnType<typeof providers>) =>
    which === 'relay' ? p.relay.submit(relaySubmit) : p.official.submit(officialSubmit);

  it('429 with Retry-After is rate_limited with retryAfterMs', async () => {
    queue.push(
      json(
        429,
        { error: { code: 'rate_limit_exceeded', message: 'Too many concurrent tasks' } },
        { 'retry-after': '3' },
      ),
    );
    const err = await providerError(submit(providers()));
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000, status: 429 });
  });

  it('a 502 HTML page is transient', async () => {
    queue.push({ status: 502, headers: { 'content-type': 'text/html' }, body: '<html>Bad gateway</html>' });
    expect((await providerError(submit(providers()))).kind).toBe('transient');
  });

  it('400 sentinel_block is unavailable', async () => {
    queue.push(json(400, { error: { code: 'sentinel_block', message: 'Request blocked' } }));
    expect((await providerError(submit(providers()))).kind).toBe('unavailable');
  });

  it('a 200 body that breaks the contract is transient contract_violation', async () => {
    queue.push(json(200, { unexpected: true }));
    expect(await providerError(submit(providers()))).toMatchObject({ kind: 'transient', code: 'contract_violation' });
  });

  it('sends the Idempotency-Key header and Bearer auth', async () => {
    queue.push(
      which === 'relay'
        ? json(200, { task_id: 'task_1' })
        : json(200, { id: 'video_1', object: 'video', status: 'queued', progress: 0 }),
    );
    await submit(providers());
    expect(seen[0].headers['idempotency-key']).toBe('k-1');
    expect(seen[0].headers.authorization).toMatch(/^Bearer /);
  });

  it('a download that stalls midway fails transient, not forever', async () => {
    const p = providers();
    if (which === 'relay') {
      queue.push(json(200, { task_id: 't', status: 'completed', video_url: `${base}/cdn/t.mp4` }));
    }
    queue.push({
      status: 200,
      headers: { 'content-type': 'video/mp4' },
      stallAfterBytes: Buffer.from('\0\0\0\x18ftypmp42'),
    });
    const stream = await (which === 'relay' ? p.relay : p.official).download('t');
    const err = await providerError(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    );
    expect(err).toMatchObject({ kind: 'transient', code: 'download_stalled' });
  });
});

describe('relay specifics', () => {
  it('parses leading codes of failed-task error strings', async () => {
    queue.push(json(200, { task_id: 't', status: 'failed', error: "processing_error: We're under heavy load" }));
    expect(await providers().relay.getJob('t')).toEqual({
      jobId: 't',
      state: 'failed',
      progress: 0,
      error: { kind: 'transient', code: 'processing_error', message: "We're under heavy load" },
    });
  });

  it('cameo_permission_denied on generate is unavailable', async () => {
    queue.push(json(403, { error: { code: 'cameo_permission_denied', message: 'The owner revoked this character' } }));
    expect((await providerError(providers().relay.submit(relaySubmit))).kind).toBe('unavailable');
  });

  it('re-reads the task for a fresh URL and never sends the key to another host', async () => {
    // `localhost` vs `127.0.0.1`: same server, different origin, like a CDN
    const cdnUrl = `${base.replace('127.0.0.1', 'localhost')}/cdn/t.mp4`;
    queue.push(json(200, { task_id: 't', status: 'completed', video_url: cdnUrl }));
    queue.push({ status: 200, headers: { 'content-type': 'video/mp4' }, body: '\0\0\0\x18ftypmp42' });
    const stream = await providers().relay.download('t');
    for await (const chunk of stream) void chunk;
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /relay/sora/tasks/t', 'GET /cdn/t.mp4']);
    expect(seen[1].headers.authorization).toBeUndefined();
  });

  it('downloading an unfinished task is invalid', async () => {
    queue.push(json(200, { task_id: 't', status: 'processing', progress: 40 }));
    expect(await providerError(providers().relay.download('t'))).toMatchObject({
      kind: 'invalid',
      code: 'job_not_completed',
    });
  });

  it('a suspended route (bare 404 on a task id) is unavailable', async () => {
    queue.push({ status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' });
    expect(await providerError(providers().relay.getJob('t'))).toMatchObject({
      kind: 'unavailable',
      code: 'route_not_found',
    });
  });

  it('a non-JSON 200 is a contract violation', async () => {
    queue.push({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>maintenance</html>' });
    expect(await providerError(providers().relay.getJob('t'))).toMatchObject({
      kind: 'transient',
      code: 'contract_violation',
    });
  });
});

describe('official specifics', () => {
  it('maps a failed job error code to its kind', async () => {
    queue.push(
      json(200, {
        id: 'video_1',
        object: 'video',
        status: 'failed',
        progress: 50,
        error: { code: 'moderation_blocked', message: 'blocked' },
      }),
    );
    expect(await providers().official.getJob('video_1')).toMatchObject({
      state: 'failed',
      error: { kind: 'rejected', code: 'moderation_blocked' },
    });
  });

  it('reads retry-after-ms too', async () => {
    queue.push(
      json(
        429,
        { error: { code: null, message: 'Rate limit reached', type: 'requests' } },
        { 'retry-after-ms': '1200' },
      ),
    );
    expect(await providerError(providers().official.getJob('video_1'))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 1200,
    });
  });

  it('does not echo a key the upstream repeats', async () => {
    queue.push(
      json(401, {
        error: { code: 'invalid_api_key', message: 'Incorrect API key provided: sk-official-secret-value.' },
      }),
    );
    const err = await providerError(providers().official.getJob('video_1'));
    expect(err.kind).toBe('unavailable');
    expect(err.message).not.toContain('secret-value');
  });

  it('refuses a model other than the configured one before spending', async () => {
    const err = await providerError(providers().official.submit({ ...officialSubmit, model: 'sora-2-pro' }));
    expect(err).toMatchObject({ kind: 'invalid', code: 'unsupported_request' });
    expect(seen).toHaveLength(0);
  });
});
