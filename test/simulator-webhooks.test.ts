/**
 * The simulator's official-contract webhooks over real HTTP: sent when a job ends (not when it is
 * polled), signed so that the `openai` SDK's own `webhooks.unwrap()` accepts them, retried under
 * the same event id when the receiver fails, configurable at runtime through /admin/webhooks.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { InvalidWebhookSignatureError } from 'openai';
import { SimulatorOptionsError, type RunningSimulator } from '../simulator/server';
import { callSimulator, simulatorsPerTest, SIM_TEST_KEYS } from './helpers/simulator-calls';

const SECRET = `whsec_${Buffer.from('simulator-webhook-test-key-0001').toString('base64')}`;

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver; answers each request with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []): Promise<{
  url: string;
  got: Received[];
  next(count: number, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    got,
    async next(count, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (got.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      return got;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const receivers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
async function startReceiver(statuses?: number[]) {
  const r = await receiver(statuses);
  receivers.push(r);
  return r;
}

const start = simulatorsPerTest({ jobSeconds: 0.4, jitter: 0 });
const sdk = (sim: RunningSimulator) =>
  new OpenAI({ apiKey: SIM_TEST_KEYS.official, baseURL: sim.officialBaseUrl, maxRetries: 0, webhookSecret: SECRET });
const officialJob = async (sim: RunningSimulator, prompt = 'a lighthouse at dawn') => {
  const created = await sdk(sim).videos.create({ prompt, seconds: '4' });
  return { id: created.id, acceptedAt: Date.now() };
};

describe('simulator webhooks', () => {
  it('sends video.completed when the job ends, and the openai SDK unwraps it', async () => {
    const hooks = await startReceiver();
    const sim = await start({ webhook: { url: hooks.url, secret: SECRET } });
    const job = await officialJob(sim);
    const [hook] = await hooks.next(1);
    expect(hook).toBeDefined();
    // Sent when the 0.4 s job ends, without anyone polling it.
    expect(hook.at - job.acceptedAt).toBeGreaterThanOrEqual(350);
    expect(hook.at - job.acceptedAt).toBeLessThan(1_500);
    expect(sim.calls().byEndpoint.official.retrieve ?? 0).toBe(0);

    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers['webhook-id']).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(Math.abs(Number(hook.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(hook.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    const event = (await sdk(sim).webhooks.unwrap(
      hook.body,
      hook.headers as Record<string, string>,
    )) as unknown as Record<string, unknown>;
    expect(event).toEqual({
      id: hook.headers['webhook-id'],
      object: 'event',
      created_at: expect.any(Number),
      type: 'video.completed',
      data: { id: job.id },
    });
    expect(Math.abs((event.created_at as number) - Date.now() / 1000)).toBeLessThan(5);

    // The same bytes with another secret, or changed by one byte, are refused by the SDK.
    const other = `whsec_${Buffer.from('another-key-entirely-000000').toString('base64')}`;
    await expect(
      sdk(sim).webhooks.unwrap(hook.body, hook.headers as Record<string, string>, other),
    ).rejects.toBeInstanceOf(InvalidWebhookSignatureError);
    await expect(
      sdk(sim).webhooks.unwrap(hook.body.replace(job.id, `${job.id}x`), hook.headers as Record<string, string>),
    ).rejects.toBeInstanceOf(InvalidWebhookSignatureError);

    const [delivery] = sim.webhookDeliveries();
    expect(delivery).toMatchObject({
      eventId: hook.headers['webhook-id'],
      type: 'video.completed',
      videoId: job.id,
      status: 'delivered',
      attempts: 1,
      lastResult: 200,
    });
    // Exactly one event per job: nothing more arrives.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hooks.got).toHaveLength(1);
  });

  it('sends video.failed half-way through a job the upstream fails; none for relay or stuck jobs', async () => {
    const hooks = await startReceiver();
    const sim = await start({
      webhook: { url: hooks.url, secret: SECRET },
      scenario: { contracts: { official: { failJobs: { code: 'moderation_blocked', matchWord: 'duel' } } } },
    });
    const relay = await callSimulator(sim, 'POST', '/relay/sora/generate', {
      body: { prompt: 'a duel at sea', duration: 10 },
    });
    expect(relay.status).toBe(200);
    const job = await officialJob(sim, 'a duel at sea');
    const [hook] = await hooks.next(1);
    expect(hook.at - job.acceptedAt).toBeLessThan(1_000); // half-way: 0.2 s into a 0.4 s job
    const event = (await sdk(sim).webhooks.unwrap(hook.body, hook.headers as Record<string, string>)) as unknown as {
      type: string;
      data: { id: string };
    };
    expect(event).toMatchObject({ type: 'video.failed', data: { id: job.id } });

    sim.setScenario({ contracts: { official: { stuck: { at: 99 } } } });
    await officialJob(sim, 'a kite over the harbor');
    await new Promise((resolve) => setTimeout(resolve, 800)); // the relay job and the stuck one are long past their 0.4 s
    expect(hooks.got).toHaveLength(1);
  });

  it('retries a failing receiver with backoff under the same event id, each attempt signed anew', async () => {
    const hooks = await startReceiver([500, 503]);
    const sim = await start({ webhook: { url: hooks.url, secret: SECRET, retryDelaysMs: [100, 200] } });
    const job = await officialJob(sim);
    const got = await hooks.next(3);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((h) => h.headers['webhook-id'])).size).toBe(1);
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(90);
    expect(got[2].at - got[1].at).toBeGreaterThanOrEqual(190);
    for (const hook of got) {
      await expect(sdk(sim).webhooks.unwrap(hook.body, hook.headers as Record<string, string>)).resolves.toMatchObject({
        data: { id: job.id },
      });
    }
    expect(sim.webhookDeliveries()).toEqual([
      expect.objectContaining({ videoId: job.id, status: 'delivered', attempts: 3, lastResult: 200 }),
    ]);
  });

  it('gives up after the last retry on an unreachable receiver and keeps serving meanwhile', async () => {
    const gone = await startReceiver();
    await gone.close(); // its port now refuses connections
    const sim = await start({ webhook: { url: gone.url, secret: SECRET, retryDelaysMs: [50, 50] } });
    const job = await officialJob(sim);
    const deadline = Date.now() + 5_000;
    while (sim.webhookDeliveries()[0]?.status !== 'failed' && Date.now() < deadline) {
      // the simulator answers while deliveries fail
      expect((await callSimulator(sim, 'GET', `/v1/videos/${job.id}`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(sim.webhookDeliveries()).toEqual([
      expect.objectContaining({ videoId: job.id, status: 'failed', attempts: 3, lastResult: expect.any(String) }),
    ]);
  });

  it('is configured at runtime through /admin/webhooks, never shows the secret, and refuses bad settings', async () => {
    const hooks = await startReceiver();
    const sim = await start();
    expect((await callSimulator(sim, 'GET', '/admin/webhooks')).json).toEqual({ url: null, deliveries: [] });

    const bad = await callSimulator(sim, 'POST', '/admin/webhooks', {
      body: { url: hooks.url, secret: 'not-a-whsec' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('webhook.secret: must be whsec_<base64>');
    const badUrl = await callSimulator(sim, 'POST', '/admin/webhooks', { body: { url: 'ftp://x', secret: SECRET } });
    expect(badUrl.status).toBe(400);
    const unknown = await callSimulator(sim, 'POST', '/admin/webhooks', {
      body: { url: hooks.url, secret: SECRET, events: ['*'] },
    });
    expect(unknown.status).toBe(400);

    const set = await callSimulator(sim, 'POST', '/admin/webhooks', { body: { url: hooks.url, secret: SECRET } });
    expect(set).toMatchObject({ status: 200, json: { url: hooks.url } });
    const job = await officialJob(sim);
    await hooks.next(1);
    const view = await callSimulator(sim, 'GET', '/admin/webhooks');
    expect(view.json).toEqual({
      url: hooks.url,
      deliveries: [expect.objectContaining({ videoId: job.id, status: 'delivered' })],
    });
    expect(view.text).not.toContain(SECRET.slice('whsec_'.length));

    expect((await callSimulator(sim, 'POST', '/admin/webhooks', { body: {} })).json).toEqual({ url: null });
    await officialJob(sim);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(hooks.got).toHaveLength(1);
  });

  it('refuses bad webhook options at start', async () => {
    await expect(start({ webhook: { url: 'http://127.0.0.1:1/x', secret: 'whsec_' } })).rejects.toThrow(
      SimulatorOptionsError,
    );
    await expect(start({ webhook: { url: 'not a url', secret: SECRET } })).rejects.toThrow(
      /webhook\.url: must be an http\(s\) URL/,
    );
  });
});
