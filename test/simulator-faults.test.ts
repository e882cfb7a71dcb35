/**
 * Fault drills, call level, over real HTTP: latency, 429 with Retry-After, 5xx bursts, connection
 * resets, hangs past the client's timeout (and a close() that still ends promptly), malformed and
 * off-contract bodies, sentinel blocks, broken media, per-endpoint overrides, and the scenario format itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultPlanner, fires } from '../simulator/faults';
import { deriveStream } from '../simulator/prng';
import { parseScenario, ScenarioState } from '../simulator/scenario';
import { ScenarioError, type RunningSimulator } from '../simulator/server';
import { download, probeBytes } from './helpers/media';
import { callSimulator, errorCodeOf, SIM_TEST_KEYS, simulatorsPerTest } from './helpers/simulator-calls';

const call = callSimulator;

const generate = (sim: RunningSimulator, prompt = 'harbour at dawn', headers?: Record<string, string>) =>
  call(sim, 'POST', '/relay/sora/generate', { body: { prompt }, headers });
const task = (sim: RunningSimulator, id = 'task_demo_origin') => call(sim, 'GET', `/relay/sora/tasks/${id}`);
const code = errorCodeOf;
const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = Date.now();
  const result = await work();
  return [result, Date.now() - started];
};

const start = simulatorsPerTest({ jobSeconds: 0.2 });

describe('call-level faults', () => {
  it('latencyMs delays only the calls in scope, by a seeded draw within [min, max]', async () => {
    const sim = await start({
      scenario: { contracts: { 'relay-v1': { endpoints: { generate: { latencyMs: { min: 120, max: 160 } } } } } },
    });
    const [slow, slowMs] = await timed(() => generate(sim));
    expect(slow.status).toBe(200);
    expect(slowMs).toBeGreaterThanOrEqual(115);
    const [, fastMs] = await timed(() => task(sim));
    expect(fastMs).toBeLessThan(100);

    const draws = (seed: number) => {
      const scenario = new ScenarioState();
      scenario.replace({ contracts: { official: { latencyMs: { min: 10, max: 500 } } } }, 0);
      const random = deriveStream(seed, 'latency');
      const planner = new FaultPlanner(scenario, () => random);
      return Array.from(
        { length: 20 },
        () => planner.planCall({ contract: 'official', endpoint: 'list', inherit: true }, 0).latencyMs,
      );
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(8)).not.toEqual(draws(7));
    expect(draws(7).every((ms) => ms >= 10 && ms <= 500)).toBe(true);
  });

  it('rateLimit answers 429 with Retry-After on every Nth call, or for a burst', async () => {
    const sim = await start({
      scenario: { contracts: { 'relay-v1': { rateLimit: { retryAfterSeconds: 7, every: 2 } } } },
    });
    const replies = [await task(sim), await task(sim), await task(sim), await task(sim)];
    expect(replies.map((r) => r.status)).toEqual([200, 429, 200, 429]);
    expect(replies[1].headers.get('retry-after')).toBe('7');
    expect(code(replies[1])).toBe('rate_limit_exceeded');

    sim.setScenario({ contracts: { official: { rateLimit: { retryAfterSeconds: 2, burst: 2 } } } });
    const official = [];
    for (let i = 0; i < 3; i++) official.push(await call(sim, 'GET', '/v1/videos'));
    expect(official.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(official[0].headers.get('retry-after')).toBe('2');
    expect(official[0].json?.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_exceeded' });
  });

  it('serverErrors fail a burst of calls, counted from when the scenario is set (re-setting re-arms it)', async () => {
    const sim = await start();
    const drill = {
      contracts: { 'relay-v1': { serverErrors: { status: 503 as const, burst: 2, retryAfterSeconds: 1 } } },
    };
    sim.setScenario(drill);
    const replies = [await task(sim), await task(sim), await task(sim)];
    expect(replies.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(replies[0].headers.get('retry-after')).toBe('1');
    expect(code(replies[0])).toBe('service_unavailable');
    sim.setScenario(drill);
    expect((await task(sim)).status).toBe(503);

    // burst + every: the first `burst` calls of each window of `every` calls.
    sim.setScenario({ contracts: { 'relay-v1': { serverErrors: { status: 502, burst: 1, every: 3 } } } });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await task(sim)).status);
    expect(statuses).toEqual([502, 200, 200, 502, 200, 200]);
    expect([fires({}, 5), fires({ every: 3 }, 3), fires({ every: 3 }, 4), fires({ burst: 2, every: 5 }, 7)]).toEqual([
      true,
      true,
      false,
      true,
    ]);
  });

  it('reset destroys the socket without an answer; afterHandling loses the answer of an accepted job', async () => {
    const sim = await start({
      scenario: { contracts: { 'relay-v1': { endpoints: { task: { reset: { burst: 1 } } } } } },
    });
    const failure = await task(sim).then(
      () => undefined,
      (error: unknown) => error as Error & { cause?: { code?: string } },
    );
    expect(failure).toMatchObject({ name: 'TypeError', message: 'fetch failed' }); // undici, another realm than jest's
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(failure?.cause?.code);
    expect((await task(sim)).status).toBe(200);

    sim.setScenario({
      contracts: { 'relay-v1': { endpoints: { generate: { reset: { burst: 1, afterHandling: true } } } } },
    });
    const key = { 'Idempotency-Key': 'take-1' };
    await expect(generate(sim, 'lost answer', key)).rejects.toThrow('fetch failed');
    expect(sim.ledger()).toHaveLength(1); // the job was accepted before the socket died
    const retry = await generate(sim, 'lost answer', key);
    expect(retry.json?.task_id).toBe(sim.ledger()[0].jobId);
    expect(sim.ledger()).toHaveLength(1); // nothing paid twice
  });

  it('hang never answers: the client timeout fires, a short hang closes the socket, close() still ends promptly', async () => {
    const sim = await start({
      scenario: {
        contracts: { official: { hang: { ms: 60_000 } }, 'relay-v1': { endpoints: { task: { hang: { ms: 150 } } } } },
      },
    });
    const [timeout, waited] = await timed(() =>
      call(sim, 'GET', '/v1/videos', { signal: AbortSignal.timeout(200) }).catch((error: unknown) => error as Error),
    );
    expect((timeout as Error).name).toBe('TimeoutError');
    expect(waited).toBeLessThan(2_000);
    const [closedByServer, closedAfter] = await timed(() => task(sim).catch((error: unknown) => error as Error));
    expect(closedByServer).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(closedAfter).toBeGreaterThanOrEqual(140);

    const pending = call(sim, 'GET', '/v1/videos').then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // the request is being held now
    const [, closeMs] = await timed(() => sim.close());
    expect(closeMs).toBeLessThan(1_000);
    expect(await pending).toBe('failed');
  });

  it('malformed answers 200 with a truncated body; the job behind it still exists', async () => {
    const sim = await start({
      scenario: { contracts: { 'relay-v1': { endpoints: { generate: { malformed: { burst: 1 } } } } } },
    });
    const key = { 'Idempotency-Key': 'take-2' };
    const broken = await generate(sim, 'cut short', key);
    expect(broken.status).toBe(200);
    expect(broken.headers.get('content-type')).toBe('application/json');
    expect(() => JSON.parse(broken.text)).toThrow(SyntaxError);
    expect(broken.text.startsWith('{"task_id":"task_')).toBe(true);
    expect(broken.headers.get('x-simulator-fault')).toBe('malformed');
    const retry = await generate(sim, 'cut short', key);
    expect(retry.json).toEqual({ task_id: sim.ledger()[0].jobId });
    expect(sim.ledger()).toHaveLength(1);
  });

  it('contractBreak answers 200 JSON with required fields missing and wrong types', async () => {
    const sim = await start({
      scenario: {
        contracts: {
          'relay-v1': { endpoints: { task: { contractBreak: {} } } },
          official: { contractBreak: { every: 2 } },
        },
      },
    });
    const relay = await task(sim);
    expect(relay.status).toBe(200);
    expect(relay.json).not.toHaveProperty('task_id');
    expect(typeof relay.json?.status).toBe('number');
    const first = await call(sim, 'GET', '/v1/videos');
    const second = await call(sim, 'GET', '/v1/videos');
    expect(first.json).toMatchObject({ object: 'list', data: [] });
    expect(second.json).not.toHaveProperty('object');
    expect(typeof second.json?.data).toBe('string');
  });

  it('sentinelBlock answers 400 before generation, is not billed, and leaves other endpoints alone', async () => {
    const sim = await start({ scenario: { contracts: { 'relay-v1': { sentinelBlock: { burst: 1 } } } } });
    expect((await task(sim)).status).toBe(200);
    const blocked = await generate(sim);
    expect([blocked.status, code(blocked)]).toEqual([400, 'sentinel_block']);
    expect(sim.ledger()).toHaveLength(0);
    expect((await generate(sim)).status).toBe(200);
    expect(sim.ledger()).toHaveLength(1);
  });
});

describe('per-endpoint overrides', () => {
  it('hit only their endpoint, and replace the contract-wide fault of the same kind there', async () => {
    const sim = await start({
      scenario: {
        contracts: {
          'relay-v1': {
            rateLimit: { retryAfterSeconds: 9, burst: 1 },
            endpoints: {
              task: { serverErrors: { status: 500 } },
              generate: { rateLimit: { retryAfterSeconds: 3, every: 2 } },
            },
          },
        },
      },
    });
    const list = await call(sim, 'GET', '/relay/sora/characters');
    expect([list.status, list.headers.get('retry-after')]).toEqual([429, '9']);
    expect((await call(sim, 'GET', '/relay/sora/characters')).status).toBe(200);
    expect([(await task(sim)).status, (await task(sim)).status]).toEqual([500, 500]);
    const generated = [await generate(sim), await generate(sim)];
    expect(generated.map((r) => r.status)).toEqual([200, 429]);
    expect(generated[1].headers.get('retry-after')).toBe('3');
    expect((await call(sim, 'GET', '/v1/videos')).status).toBe(200);
  });

  it('apply to /relay/files on the file endpoint, which contract-wide faults and down leave alone', async () => {
    const sim = await start({
      scenario: { contracts: { 'relay-v1': { down: { status: 403 }, serverErrors: { status: 500 } } } },
    });
    const full = await fetch(`${sim.url}/relay/files/task_demo_origin.mp4`);
    expect(full.status).toBe(200);
    const fullBytes = (await full.arrayBuffer()).byteLength;
    sim.setScenario({
      contracts: { 'relay-v1': { down: { status: 403 }, endpoints: { file: { malformed: { burst: 1 } } } } },
    });
    const cut = await fetch(`${sim.url}/relay/files/task_demo_origin.mp4`);
    expect([cut.status, (await cut.arrayBuffer()).byteLength]).toEqual([200, Math.floor(fullBytes / 2)]);
    sim.setScenario({ contracts: { 'relay-v1': { endpoints: { file: { down: { status: 404 } } } } } });
    expect((await fetch(`${sim.url}/relay/files/task_demo_origin.mp4`)).status).toBe(404);
    expect(sim.calls().byEndpoint['relay-v1'].file).toBe(3);
    expect(sim.calls().byContract['relay-v1']).toBe(0); // files stay out of the contract's total
  });
});

describe('media faults', () => {
  const file = (sim: RunningSimulator) => `${sim.url}/relay/files/task_demo_origin.mp4`;

  it('break a 200 media answer four ways: truncated, corrupt, html, empty; each decodes as no valid video', async () => {
    const sim = await start();
    const good = await download(file(sim));
    expect((await probeBytes(good.bytes)).errors).toEqual([]);
    const damaged: Record<string, { type: string | null; bytes: Buffer; fault: string | null }> = {};
    for (const kind of ['truncated', 'corrupt', 'html', 'empty'] as const) {
      sim.setScenario({ contracts: { 'relay-v1': { endpoints: { file: { media: { kind, burst: 1 } } } } } });
      const response = await fetch(file(sim));
      expect(response.status).toBe(200);
      damaged[kind] = {
        type: response.headers.get('content-type'),
        bytes: Buffer.from(await response.arrayBuffer()),
        fault: response.headers.get('x-simulator-fault'),
      };
      expect((await download(file(sim))).bytes.equals(good.bytes)).toBe(true); // burst: 1, then whole again
      expect((await probeBytes(damaged[kind].bytes)).errors).not.toEqual([]);
    }
    expect(damaged.truncated.bytes.equals(good.bytes.subarray(0, Math.floor(good.bytes.length / 2)))).toBe(true);
    expect(damaged.corrupt.bytes.length).toBe(good.bytes.length);
    expect(damaged.corrupt.bytes.subarray(0, 100).equals(good.bytes.subarray(0, 100))).toBe(true); // header intact
    expect(damaged.html.type).toBe('text/html');
    expect(damaged.empty.bytes.length).toBe(0);
    expect(Object.values(damaged).map((d) => d.fault)).toEqual(['media', 'media', 'media', 'media']);
  });

  it('set on a contract, reach its media endpoint (relay files included) and leave JSON endpoints alone', async () => {
    const sim = await start({
      scenario: {
        contracts: { 'relay-v1': { media: { kind: 'empty' } }, official: { media: { kind: 'html', every: 2 } } },
      },
    });
    expect((await download(file(sim))).bytes.length).toBe(0);
    expect((await task(sim)).json.status).toBe('completed');
    const created = await call(sim, 'POST', '/v1/videos', { body: { prompt: 'p', seconds: '4' } });
    expect(created.status).toBe(200);
    for (
      let polls = 0;
      (await call(sim, 'GET', `/v1/videos/${String(created.json.id)}`)).json.status !== 'completed';
      polls++
    ) {
      if (polls > 100) throw new Error('video never completed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const content = () =>
      download(`${sim.url}/v1/videos/${String(created.json.id)}/content`, {
        headers: { authorization: `Bearer ${SIM_TEST_KEYS.official}` },
      });
    expect([(await content()).type, (await content()).type, (await content()).type]).toEqual([
      'video/mp4',
      'text/html',
      'video/mp4',
    ]);
  });
});

describe('scenario format', () => {
  it('rejects unknown endpoints and inconsistent values, and accepts every example in the README', () => {
    expect(() => parseScenario({ contracts: { official: { endpoints: { generate: {} } } } })).toThrow(ScenarioError);
    expect(() => parseScenario({ contracts: { 'relay-v1': { latencyMs: { min: 5, max: 1 } } } })).toThrow(
      /min must be <= max/,
    );
    expect(() => parseScenario({ contracts: { 'relay-v1': { serverErrors: { status: 504 } } } })).toThrow(
      ScenarioError,
    );
    expect(() => parseScenario({ contracts: { 'relay-v1': { stuck: { at: 50 } } } })).toThrow(ScenarioError);
    expect(() => parseScenario({ contracts: { official: { media: { kind: 'garbled' } } } })).toThrow(ScenarioError);

    const readme = readFileSync(join(__dirname, '..', 'simulator', 'README.md'), 'utf8');
    const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(examples.length).toBeGreaterThanOrEqual(12);
    for (const example of examples) expect(() => parseScenario(JSON.parse(example))).not.toThrow();
  });
});
