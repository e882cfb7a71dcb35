/**
 * verifyKlingWebhook against the Kling twin's real callbacks (each status change of a task,
 * signed per Standard Webhooks with the console secret), the contract file's test vector, and
 * the refusals: no secret, forged, stale, garbled.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseProviderConfig } from '../activities/providers/config';
import { createProviders } from '../activities/providers/registry';
import { BadRequestError, UnauthorizedError } from '../client/gateway/errors';
import { verifyKlingWebhook } from '../client/gateway/webhook-kling';
import { signWebhook, startSimulator, type RunningSimulator } from '../simulator/server';

const SECRET = `whsec_${Buffer.from('kling webhook secret for tests').toString('base64')}`;
const KEYS = { official: 'o', relay: 'r', kling: 'kling-webhook-test' };

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let sim: RunningSimulator;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

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
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/kling`;
  sim = await startSimulator({ port: 0, seed: 5, jobSeconds: 0.3, keys: KEYS, kling: { secret: SECRET } });
});

afterAll(async () => {
  await sim?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** Submits one take with a callback URL and waits until the twin has delivered its final callback. */
async function callbacksOfOneTask(): Promise<{ jobId: string; callbacks: Received[] }> {
  const config = parseProviderConfig({
    providers: [
      {
        name: 'kling',
        contract: 'kling',
        baseUrl: sim.klingBaseUrl,
        keyEnv: 'KLING_KEY',
        kling: { callbackUrl: receiverUrl, webhookSecretEnv: 'KLING_WEBHOOK_SECRET' },
      },
    ],
  });
  const kling = createProviders(config, { KLING_KEY: KEYS.kling }).get('kling')!;
  const { jobId } = await kling.submit({
    prompt: 'a lighthouse at dawn',
    seconds: 5,
    size: '1280x720',
    idempotencyKey: `series/webhooks/scene-${received.length + 1}/take-1`,
  });
  for (;;) {
    const done = sim.klingCallbacks().find((d) => d.taskId === jobId && d.status === 'succeeded');
    if (done?.outcome === 'delivered') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const callbacks = received.filter((r) => JSON.parse(r.body.toString('utf8')).id === jobId);
  return { jobId, callbacks };
}

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
};

test("the twin's signed callbacks verify: each status change, only the final one is an event", async () => {
  const { jobId, callbacks } = await callbacksOfOneTask();
  const statuses = callbacks.map((c) => JSON.parse(c.body.toString('utf8')).status);
  expect(statuses).toEqual(['submitted', 'processing', 'succeeded']);
  const verified = callbacks.map((c) => verifyKlingWebhook(c.headers, c.body, { secret: SECRET }));
  expect(verified.slice(0, 2)).toEqual([undefined, undefined]);
  expect(verified[2]).toEqual({ webhookId: callbacks[2].headers['webhook-id'], jobId, event: 'completed' });
});

test('forged, stale, unsigned or garbled callbacks are refused; without a secret nothing is believed', async () => {
  const { callbacks } = await callbacksOfOneTask();
  const final = callbacks.at(-1)!;
  const tampered = Buffer.from(final.body.toString('utf8').replace('succeeded', 'failed'));
  expect(thrown(() => verifyKlingWebhook(final.headers, tampered, { secret: SECRET }))).toBeInstanceOf(
    UnauthorizedError,
  );
  const otherSecret = `whsec_${Buffer.from('another secret of 16+ bytes').toString('base64')}`;
  expect(thrown(() => verifyKlingWebhook(final.headers, final.body, { secret: otherSecret }))).toBeInstanceOf(
    UnauthorizedError,
  );
  const later = Number(final.headers['webhook-timestamp']) * 1000 + 6 * 60_000;
  expect(thrown(() => verifyKlingWebhook(final.headers, final.body, { secret: SECRET, nowMs: later }))).toBeInstanceOf(
    UnauthorizedError,
  );
  const { 'webhook-signature': _dropped, ...unsigned } = final.headers;
  expect(thrown(() => verifyKlingWebhook(unsigned, final.body, { secret: SECRET }))).toBeInstanceOf(BadRequestError);
  expect(thrown(() => verifyKlingWebhook(final.headers, final.body, {}))).toBeInstanceOf(UnauthorizedError);
});

test("the contract file's vector verifies (new-standard body); a legacy body is read by task_id", () => {
  const secret = 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=';
  const body = Buffer.from(
    '{"id":"1234567890","status":"succeeded","message":"","create_time":1781080778802,"update_time":1781080794151}',
  );
  const headers = {
    'webhook-id': '9876543210',
    'webhook-timestamp': '1781080794',
    'webhook-signature': 'v1,UsKlJP00XoQyOn410NM9xv34sP+Gl0jnOO9Lcpr7NJ4=',
  };
  expect(verifyKlingWebhook(headers, body, { secret, nowMs: 1781080794_000 })).toEqual({
    webhookId: '9876543210',
    jobId: '1234567890',
    event: 'completed',
  });
  // a rotated key: several signatures, any one may match
  const rotated = { ...headers, 'webhook-signature': `v1,AAAA ${headers['webhook-signature']}` };
  expect(verifyKlingWebhook(rotated, body, { secret, nowMs: 1781080794_000 })?.event).toBe('completed');
  const legacy = '{"task_id":"930810160000000001","task_status":"failed","task_status_msg":"risk control"}';
  const signed = { ...headers, 'webhook-signature': signWebhook(secret, '9876543210', 1781080794, legacy) };
  expect(verifyKlingWebhook(signed, Buffer.from(legacy), { secret, nowMs: 1781080794_000 })).toEqual({
    webhookId: '9876543210',
    jobId: '930810160000000001',
    event: 'failed',
  });
});

test('unsigned callbacks when the twin has no secret: refused for want of headers', async () => {
  sim.setKlingCallbacks({});
  try {
    const { callbacks } = await callbacksOfOneTask();
    expect(callbacks.every((c) => c.headers['webhook-signature'] === undefined)).toBe(true);
    expect(
      thrown(() => verifyKlingWebhook(callbacks[0].headers, callbacks[0].body, { secret: SECRET })),
    ).toBeInstanceOf(BadRequestError);
  } finally {
    sim.setKlingCallbacks({ secret: SECRET });
  }
});
