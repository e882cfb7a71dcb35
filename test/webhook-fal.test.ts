/**
 * The gateway's fal webhook verification against the fal twin's real deliveries: the twin signs
 * with its own ED25519 key and serves its JWKS; the verifier knows nothing but that URL.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequestError, UnauthorizedError } from '../client/gateway/errors';
import { FalJwks, verifyFalWebhook, type FalWebhookSettings } from '../client/gateway/webhook-fal';
import type { FalProvider } from '../activities/providers/fal';
import type { LocalFile } from '../activities/providers/provider';
import { createProviders } from '../activities/providers/registry';
import { SIM_FAL_KEY, startSimulator, type RunningSimulator } from '../simulator/server';
import { falConfig, stillsOf } from './helpers/fal';

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let sim: RunningSimulator;
let other: RunningSimulator;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let dir: string;
let stills: LocalFile[];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/fal`;
  sim = await startSimulator({
    port: 0,
    seed: 5,
    jobSeconds: 0.2,
    keys: { official: 'o', relay: 'r' },
    falWebhooks: { duplicates: true },
  });
  other = await startSimulator({ port: 0, seed: 6, jobSeconds: 0.2, keys: { official: 'o', relay: 'r' } });
  dir = await mkdtemp(join(tmpdir(), 'webhook-fal-'));
  stills = await stillsOf(sim.url, dir);
});

afterEach(() => sim.setScenario({}));

afterAll(async () => {
  await sim?.close();
  await other?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs one take on the twin with its webhook pointed at our receiver; returns its deliveries. */
async function deliveriesOfOneTake(prompt: string): Promise<{ jobId: string; deliveries: Received[] }> {
  const provider = createProviders(falConfig(sim, { fal: { webhookUrl: receiverUrl, jwksUrl: sim.fal.jwksUrl } }), {
    SORA_FAL_KEY: SIM_FAL_KEY,
  }).get('fal') as FalProvider;
  const ref = await provider.createCharacter({ name: 'Mira', description: 'x', clip: { url: '', path: '' }, stills });
  const { jobId } = await provider.submit({
    prompt,
    seconds: 5,
    size: '720x1280',
    characters: [{ token: '@character', name: 'Mira', description: 'x', ref, stills }],
    idempotencyKey: 'k',
  });
  const mine = () => received.filter((r) => r.headers['x-fal-webhook-request-id'] === jobId);
  while (mine().length < 2) await new Promise((resolve) => setTimeout(resolve, 25));
  return { jobId, deliveries: mine() };
}

const settings = (overrides: Partial<FalWebhookSettings> = {}): FalWebhookSettings => ({
  keys: new FalJwks(sim.fal.jwksUrl),
  toleranceSeconds: 300,
  ...overrides,
});

async function refusal(delivery: Received, s: FalWebhookSettings = settings()): Promise<Error> {
  return verifyFalWebhook(delivery.headers, delivery.body, s).then(
    () => {
      throw new Error('accepted');
    },
    (err: Error) => err,
  );
}

describe("fal webhooks verified against the twin's JWKS", () => {
  let completed: { jobId: string; deliveries: Received[] };
  beforeAll(async () => {
    completed = await deliveriesOfOneTake('@character waves from the pier');
  });

  it('a completed request: verified, its request id the job id; a duplicate verifies to the same webhook id', async () => {
    const [first, second] = completed.deliveries;
    expect(await verifyFalWebhook(first.headers, first.body, settings())).toEqual({
      webhookId: completed.jobId,
      jobId: completed.jobId,
      event: 'completed',
    });
    expect((await verifyFalWebhook(second.headers, second.body, settings())).webhookId).toBe(completed.jobId);
    expect(JSON.parse(first.body.toString()).payload.video.url).toContain(`/fal/cdn/files/${completed.jobId}/`);
  });

  it('a refused request (moderation at output) is a failed event', async () => {
    sim.setScenario({ rejectWord: 'forbidden' });
    const { deliveries, jobId } = await deliveriesOfOneTake('@character does something forbidden');
    const [delivery] = deliveries;
    expect(await verifyFalWebhook(delivery.headers, delivery.body, settings())).toEqual({
      webhookId: jobId,
      jobId,
      event: 'failed',
    });
    expect(JSON.parse(delivery.body.toString())).toMatchObject({ status: 'ERROR', error: 'Invalid status code: 422' });
  });

  it('a changed body, a stale or future timestamp, another JWKS: unauthorized', async () => {
    const [delivery] = completed.deliveries;
    const tampered = { ...delivery, body: Buffer.from(delivery.body.toString().replace('"OK"', '"ERROR"')) };
    expect(await refusal(tampered)).toBeInstanceOf(UnauthorizedError);
    const sentAt = Number(delivery.headers['x-fal-webhook-timestamp']) * 1000;
    expect(await refusal(delivery, settings({ nowMs: sentAt + 301_000 }))).toBeInstanceOf(UnauthorizedError);
    expect(await refusal(delivery, settings({ nowMs: sentAt - 301_000 }))).toBeInstanceOf(UnauthorizedError);
    expect(
      await verifyFalWebhook(delivery.headers, delivery.body, settings({ nowMs: sentAt + 299_000 })),
    ).toMatchObject({ event: 'completed' });
    expect(await refusal(delivery, settings({ toleranceSeconds: 10, nowMs: sentAt + 11_000 }))).toBeInstanceOf(
      UnauthorizedError,
    );
    const elsewhere = await refusal(delivery, settings({ keys: new FalJwks(other.fal.jwksUrl) }));
    expect(elsewhere).toBeInstanceOf(UnauthorizedError);
    expect(elsewhere.message).toContain('fal.jwksUrl');
  });

  it('a header missing or garbled: bad request, naming it', async () => {
    const [delivery] = completed.deliveries;
    const without = { ...delivery.headers };
    delete without['x-fal-webhook-signature'];
    const missing = await refusal({ ...delivery, headers: without });
    expect(missing).toBeInstanceOf(BadRequestError);
    expect(missing.message).toContain('x-fal-webhook-signature');
    const garbled = await refusal({ ...delivery, headers: { ...delivery.headers, 'x-fal-webhook-signature': 'zz' } });
    expect(garbled).toBeInstanceOf(BadRequestError);
    const timestamp = await refusal({
      ...delivery,
      headers: { ...delivery.headers, 'x-fal-webhook-timestamp': 'soon' },
    });
    expect(timestamp.message).toContain('x-fal-webhook-timestamp');
  });

  it('the JWKS is fetched once and cached; a key miss fetches it again (rotation)', async () => {
    let fetches = 0;
    const counted = new FalJwks(sim.fal.jwksUrl, { minRefreshMs: 0, fetch: (...args) => (fetches++, fetch(...args)) });
    const [delivery] = completed.deliveries;
    await verifyFalWebhook(delivery.headers, delivery.body, settings({ keys: counted }));
    await verifyFalWebhook(delivery.headers, delivery.body, settings({ keys: counted }));
    expect(fetches).toBe(1);
    const tampered = { ...delivery, body: Buffer.from(`${delivery.body.toString()} `) };
    expect(await refusal(tampered, settings({ keys: counted }))).toBeInstanceOf(UnauthorizedError);
    expect(fetches).toBe(2);
  });
});
