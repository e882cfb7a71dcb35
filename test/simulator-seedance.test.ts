/**
 * The Ark twin on the wire (ids, statuses, errors, auth, list window, cancel, expiry, callbacks)
 * and the gateway's callback parser against the callbacks it really sends.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestError, UnauthorizedError } from '../client/gateway/errors';
import { parseSeedanceCallback } from '../client/gateway/webhook-seedance';
import { startSimulator } from '../simulator/server';

const KEY = 'ark-twin-key';
const MODEL = 'dreamina-seedance-2-0-260128';
type Simulator = Awaited<ReturnType<typeof startSimulator>>;

let clockMs = Date.now();
let sim: Simulator;
let receiver: Server;
let receiverUrl: string;
/** What the receiver got, and how it answers the next calls (default 200). */
const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
const answers: number[] = [];

async function ark(method: string, path: string, body?: unknown, key = KEY) {
  const response = await fetch(`${sim.seedanceBaseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire JSON, asserted field by field
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

const create = (extra: Record<string, unknown> = {}) =>
  ark('POST', '/contents/generations/tasks', {
    model: MODEL,
    content: [{ type: 'text', text: 'a lighthouse at dawn' }],
    ratio: '16:9',
    duration: 5,
    ...extra,
  });

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/seedance`;
  sim = await startSimulator({
    keys: { official: 'o', relay: 'r', seedance: KEY },
    jobSeconds: 10,
    jitter: 0,
    now: () => clockMs,
    seedanceCallbacks: { retryDelaysMs: [10, 10, 10], duplicates: false },
  });
});

afterEach(() => {
  sim.setScenario({});
  sim.reset();
  received.length = 0;
  answers.length = 0;
});

afterAll(async () => {
  await sim.close();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

describe('tasks', () => {
  it('walks queued → running → succeeded, with the token usage and a signed video URL', async () => {
    const { status, json } = await create();
    expect(status).toBe(200);
    expect(Object.keys(json)).toEqual(['id']);
    expect(json.id).toMatch(/^cgt-\d{14}-[a-z0-9]{5}$/);
    const seen: string[] = [];
    for (const step of [0, 2_000, 10_000]) {
      clockMs += step;
      seen.push((await ark('GET', `/contents/generations/tasks/${json.id}`)).json.status);
    }
    expect(seen).toEqual(['queued', 'running', 'succeeded']);
    const task = (await ark('GET', `/contents/generations/tasks/${json.id}`)).json;
    expect(task).toMatchObject({
      model: MODEL,
      ratio: '16:9',
      resolution: '720p',
      duration: 5,
      generate_audio: true, // Ark's default when a request leaves it out
      usage: { completion_tokens: 108_000 },
      error: null,
    });
    expect(task.content.video_url).toMatch(/\/seedance\/tos\/cgt-.*\.mp4\?.*X-Tos-Expires=86400/);
    const video = await fetch(task.content.video_url);
    expect(video.status).toBe(200);
    expect(sim.ledger().find((e) => e.jobId === json.id)?.billedUsd).toBeCloseTo(0.756, 6);
  });

  it('answers errors in Ark shape: a wrong key, a missing model, 1.x parameters, a bad duration', async () => {
    const wrong = await ark('GET', '/contents/generations/tasks', undefined, 'nope');
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('AuthenticationError');
    expect(wrong.json.error.message).toMatch(/Request id: \w+$/);
    expect((await ark('POST', '/contents/generations/tasks', { content: [] })).json.error.code).toBe(
      'MissingParameter',
    );
    expect((await create({ draft: true })).json.error).toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringContaining('not supported by Seedance 2.0'),
    });
    expect((await create({ duration: 20 })).json.error.message).toContain('`duration`');
    expect((await create({ model: 'seedance-9' })).status).toBe(404);
  });

  it('cancels a queued task, refuses a running one, deletes a finished one', async () => {
    const queued = (await create()).json.id;
    expect(await ark('DELETE', `/contents/generations/tasks/${queued}`)).toEqual({ status: 200, json: {} });
    expect((await ark('GET', `/contents/generations/tasks/${queued}`)).json.status).toBe('cancelled');
    expect((await ark('DELETE', `/contents/generations/tasks/${queued}`)).status).toBe(400);
    const running = (await create()).json.id;
    clockMs += 2_000;
    expect((await ark('DELETE', `/contents/generations/tasks/${running}`)).status).toBe(400);
    clockMs += 10_000;
    expect((await ark('DELETE', `/contents/generations/tasks/${running}`)).status).toBe(200);
    expect((await ark('GET', `/contents/generations/tasks/${running}`)).status).toBe(404);
    // neither the cancelled nor the deleted one was billed more than what it ran to
    expect(sim.ledger().map((e) => e.billedUsd)).toEqual([0, 0.756]);
  });

  it('lists the last 7 days newest first, by page, filtered; echoing each seed', async () => {
    const old = (await create({ seed: 1 })).json.id;
    clockMs += 8 * 86_400_000;
    const a = (await create({ seed: 2 })).json.id;
    const b = (await create({ seed: 3 })).json.id;
    const page = (await ark('GET', '/contents/generations/tasks?page_num=1&page_size=1')).json;
    expect(page.total).toBe(2);
    expect(page.items.map((t: { id: string; seed: number }) => [t.id, t.seed])).toEqual([[b, 3]]);
    const all = (
      await ark('GET', `/contents/generations/tasks?page_size=50&filter.task_ids=${a}&filter.task_ids=${old}`)
    ).json;
    expect(all.items.map((t: { id: string }) => t.id)).toEqual([a]);
    expect((await ark('GET', '/contents/generations/tasks?page_size=501')).status).toBe(400);
  });

  it('a task stuck in the queue expires after execution_expires_after', async () => {
    sim.setScenario({ contracts: { seedance: { stuck: { at: 'queued' } } } });
    const id = (await create({ execution_expires_after: 3600 })).json.id;
    clockMs += 3_599_000;
    expect((await ark('GET', `/contents/generations/tasks/${id}`)).json.status).toBe('queued');
    clockMs += 1_000;
    expect((await ark('GET', `/contents/generations/tasks/${id}`)).json.status).toBe('expired');
  });

  it('output moderation fails the task, free; a full queue of 120 is refused', async () => {
    sim.setScenario({ contracts: { seedance: { failJobs: { code: 'moderation_blocked' } } } });
    const id = (await create()).json.id;
    clockMs += 10_000;
    const task = (await ark('GET', `/contents/generations/tasks/${id}`)).json;
    expect(task.status).toBe('failed');
    expect(task.error.code).toBe('OutputVideoSensitiveContentDetected');
    expect(sim.ledger()[0].billedUsd).toBe(0);
    sim.setScenario({ contracts: { seedance: { stuck: { at: 'queued' } } } });
    for (let i = 0; i < 120; i++) expect((await create()).status).toBe(200);
    const full = await create();
    expect(full.status).toBe(429);
    expect(full.json.error.code).toBe('QuotaExceeded');
  });
});

describe('callbacks', () => {
  it('POSTs the task object unsigned on each status change; the gateway parser takes the terminal ones as hints', async () => {
    const id = (await create({ callback_url: receiverUrl })).json.id;
    await until(() => received.length === 1);
    clockMs += 2_000;
    await until(() => received.length === 2);
    clockMs += 10_000;
    await until(() => received.length === 3);
    const statuses = received.map((r) => JSON.parse(r.body.toString()).status);
    expect(statuses).toEqual(['queued', 'running', 'succeeded']);
    for (const r of received) expect(Object.keys(r.headers).filter((h) => /signature|webhook/i.test(h))).toEqual([]);
    const parsed = received.map((r) => parseSeedanceCallback(r.headers, r.body, { nowMs: clockMs }));
    expect(parsed).toEqual([
      undefined,
      undefined,
      { webhookId: `${id}:succeeded`, jobId: id, event: 'completed', verified: false },
    ]);
  });

  it('retries a terminal callback that is not acknowledged, 3 times', async () => {
    sim.setScenario({ contracts: { seedance: { failJobs: { code: 'moderation_blocked' } } } });
    const id = (await create({ callback_url: receiverUrl })).json.id;
    await until(() => received.length === 1);
    answers.push(500, 500, 500);
    clockMs += 12_000;
    await until(() => sim.seedanceCallbacks().some((d) => d.status === 'failed' && d.outcome !== 'pending'));
    const terminal = sim.seedanceCallbacks().find((d) => d.status === 'failed')!;
    expect(terminal).toMatchObject({ taskId: id, attempts: 4, outcome: 'delivered' });
    const last = received.at(-1)!;
    expect(parseSeedanceCallback(last.headers, last.body, { nowMs: clockMs })).toMatchObject({ event: 'failed' });
  });

  it('the parser refuses what is not an Ark task object, and stale ones', () => {
    const headers = { 'content-type': 'application/json' };
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));
    expect(() => parseSeedanceCallback(headers, Buffer.from('not json'))).toThrow(BadRequestError);
    expect(() => parseSeedanceCallback(headers, body({ id: 'video_1', status: 'succeeded' }))).toThrow(
      /^id: must be an Ark task id/,
    );
    expect(() => parseSeedanceCallback(headers, body({ id: 'cgt-20260101000000-abcde', status: 'done' }))).toThrow(
      /^status:/,
    );
    expect(() => parseSeedanceCallback({ 'content-type': 'text/plain' }, body({}))).toThrow(/content-type/);
    const stale = body({ id: 'cgt-20260101000000-abcde', status: 'succeeded', updated_at: 1_000 });
    expect(() => parseSeedanceCallback(headers, stale, { nowMs: 1_000_000 + 86_401_000 })).toThrow(UnauthorizedError);
    expect(parseSeedanceCallback(headers, body({ id: 'cgt-20260101000000-abcde', status: 'expired' }))).toMatchObject({
      event: 'failed',
      verified: false,
    });
  });
});
