/**
 * The Kling adapter against its simulator twin over real HTTP: elements from reference stills,
 * a full take (submit, poll, download), at most one task per take key (replays, lost answers,
 * an older series' key), batched status reads, and every error kind from Kling's codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseProviderConfig } from '../activities/providers/config';
import type { KlingProvider } from '../activities/providers/kling';
import type { CharacterClip, JobStatus, LocalFile, SubmitRequest } from '../activities/providers/provider';
import { createProviders } from '../activities/providers/registry';
import { referenceStills } from '../activities/stills';
import { startSimulator, type RunningSimulator, type Scenario } from '../simulator/server';
import { collect, providerError } from './helpers/provider-calls';

const KEYS = { official: 'sk-official-test', relay: 'relay-test', kling: 'kling-test-key-0123' };
const ENV = { SORA_KLING_KEY: KEYS.kling };

let sim: RunningSimulator;
let kling: KlingProvider;
let dir: string;
let clip: CharacterClip;
let stills: LocalFile[];
/** The simulator's clock runs this far from the wall clock (an older series' tasks). */
let clockOffsetMs = 0;
let serial = 0;

function providerWith(env: NodeJS.ProcessEnv, extra: Record<string, unknown> = {}): KlingProvider {
  const config = parseProviderConfig({
    providers: [{ name: 'kling', contract: 'kling', baseUrl: sim.klingBaseUrl, keyEnv: 'SORA_KLING_KEY', ...extra }],
  });
  return createProviders(config, env).get('kling') as KlingProvider;
}

async function awaitJob(jobId: string, timeoutMs = 10_000): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await kling.getJob(jobId);
    if (status.state === 'completed' || status.state === 'failed') return status;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${status.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function element(name = 'Mira'): Promise<string> {
  return (await kling.createCharacter({ name, description: 'a red-haired courier', clip, stills })).id;
}

function take(elementId: string | undefined, overrides: Partial<SubmitRequest> = {}): SubmitRequest {
  return {
    prompt: '@character rides a bike through rain',
    seconds: 5,
    size: '1280x720',
    idempotencyKey: `series/kling-test/scene-${++serial}/take-1`,
    characters: [
      {
        token: '@character',
        name: 'Mira',
        description: 'a red-haired courier',
        ...(elementId ? { ref: { id: elementId, mention: `@element_${elementId}`, hold: 'kept' as const } } : {}),
        stills,
      },
    ],
    ...overrides,
  };
}

const entriesFor = (key: string) => sim.ledger().filter((e) => e.idempotencyKey?.startsWith(key));
const callsTo = (endpoint: string) => sim.calls().byEndpoint.kling[endpoint] ?? 0;
/** One call to the twin's Kling API with the account's key: its reply envelope. */
async function klingApi<T = unknown>(path: string, body?: unknown): Promise<{ code: number; data: T }> {
  const response = await fetch(`${sim.klingBaseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${KEYS.kling}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as { code: number; data: T };
}

/** Waits until the account's task list (POST /tasks) shows nothing submitted or processing. */
async function noTaskRunning(): Promise<void> {
  for (;;) {
    const list = await klingApi<{ count: number }>('/tasks', {
      filters: [{ key: 'status', values: ['submitted', 'processing'] }],
    });
    if (list.data.count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const under = (scenario: Scenario['contracts']) => sim.setScenario({ contracts: scenario });

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 11, jobSeconds: 0.3, keys: KEYS, now: () => Date.now() + clockOffsetMs });
  kling = providerWith(ENV);
  dir = mkdtempSync(join(tmpdir(), 'providers-kling-'));
  const url = `${sim.url}/clips/mira.mp4`;
  const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
  const path = join(dir, 'mira.mp4');
  writeFileSync(path, bytes);
  clip = { url, path };
  stills = await referenceStills({ path, sha256: createHash('sha256').update(bytes).digest('hex') }, dir);
});

afterEach(() => {
  sim.setScenario({});
  clockOffsetMs = 0;
});

afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('elements', () => {
  it('makes one multi-image element from the stills (scaled up to 300 px) and holds it as kept', async () => {
    const created = await kling.createCharacter({ name: 'Mira', description: 'a red-haired courier', clip, stills });
    expect(created.id).toMatch(/^\d{15}$/);
    expect(created).toEqual({ id: created.id, mention: `@element_${created.id}`, hold: 'kept' });
    type ElementTask = { task_result: { elements?: Array<{ element_id: number; reference_type: string }> } };
    const list = await klingApi<ElementTask[]>('/v1/general/advanced-custom-elements?pageNum=1&pageSize=50');
    const mine = list.data.filter((t) => t.task_result.elements?.some((e) => String(e.element_id) === created.id));
    expect(mine).toHaveLength(1);
    expect(mine[0].task_result.elements?.[0].reference_type).toBe('image_refer');
  });

  it('the same character again finds its element by external id instead of making a second one', async () => {
    const before = callsTo('createElement');
    const first = await element('Jun');
    const second = await element('Jun');
    expect(second).toBe(first);
    expect(callsTo('createElement') - before).toBe(2); // the second create was refused as a duplicate
  });

  it('a deleted element is made again under a fresh external id', async () => {
    const first = await element('Ada');
    const deleted = await klingApi('/v1/general/delete-advanced-elements', { element_id: Number(first) });
    expect(deleted.code).toBe(0);
    const again = await element('Ada');
    expect(again).not.toBe(first);
  });

  it('moderation of the element inputs is rejected, not retried', async () => {
    under({ kling: { endpoints: { createElement: { submitModeration: {} } } } });
    const err = await providerError(element('Blocked'));
    expect([err.kind, err.code]).toEqual(['rejected', 'content_violation']);
  });
});

describe('a take', () => {
  let elementId: string;
  beforeAll(async () => {
    elementId = await element();
  });

  it('is created with the element in contents and its mention in the prompt, then downloads a real video', async () => {
    const request = take(elementId);
    const { jobId } = await kling.submit(request);
    expect(jobId).toMatch(/^\d{18}$/);
    expect((await kling.getJob(jobId)).state).not.toBe('failed');
    expect(await awaitJob(jobId)).toEqual({ jobId, state: 'completed', progress: 100 });
    const bytes = await collect(await kling.download(jobId));
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const [entry] = entriesFor(request.idempotencyKey);
    expect(entry.prompt).toBe(`@element_${elementId} rides a bike through rain`);
    expect(entry.characterIds).toEqual([elementId]);
    // kling-3.0-omni, 720p, silent: 0.6 units a second at $0.14
    expect(entry.billedUsd).toBeCloseTo(5 * 0.6 * 0.14, 6);
    expect(kling.profile.pricing).toMatchObject({ per: 'second' });
  });

  it('a character without an element is described in the prompt (degraded)', async () => {
    const request = take(undefined);
    await kling.submit(request);
    expect(entriesFor(request.idempotencyKey)[0].prompt).toBe('Mira (a red-haired courier) rides a bike through rain');
  });

  it('refuses a size or duration Kling cannot render before any call', async () => {
    const before = sim.calls().byContract.kling;
    expect((await providerError(kling.submit(take(elementId, { size: '1024x1792' })))).kind).toBe('invalid');
    expect((await providerError(kling.submit(take(elementId, { seconds: 20 })))).kind).toBe('invalid');
    expect(sim.calls().byContract.kling).toBe(before);
  });

  it('status reads of many jobs at once go out as one GET /tasks', async () => {
    const jobs = await Promise.all([1, 2, 3, 4].map(() => kling.submit(take(elementId))));
    const before = callsTo('queryTasks');
    const states = await Promise.all(jobs.map((j) => kling.getJob(j.jobId)));
    expect(states.map((s) => s.jobId)).toEqual(jobs.map((j) => j.jobId));
    expect(callsTo('queryTasks') - before).toBe(1);
  });
});

describe('at most once per take', () => {
  let elementId: string;
  beforeAll(async () => {
    elementId = await element();
  });

  it('a repeated submit of one take key returns the first task and bills once', async () => {
    const request = take(elementId);
    const first = await kling.submit(request);
    const again = await kling.submit(request);
    expect(again.jobId).toBe(first.jobId);
    expect(entriesFor(request.idempotencyKey)).toHaveLength(1);
  });

  it('an answer lost after acceptance: the retried attempt finds the task by external id', async () => {
    const request = take(elementId);
    const notBefore = new Date(Date.now() - 5_000);
    under({ kling: { endpoints: { create: { reset: { afterHandling: true } } } } });
    const err = await providerError(kling.submit(request));
    expect(err.kind).toBe('transient');
    sim.setScenario({});
    const found = await kling.findJob(request, notBefore);
    expect(found).toMatch(/^\d{18}$/);
    expect((await kling.submit(request)).jobId).toBe(found);
    expect(entriesFor(request.idempotencyKey)).toHaveLength(1);
  });

  it('nothing to find for a take that never reached Kling', async () => {
    expect(await kling.findJob(take(elementId), new Date(Date.now() - 5_000))).toBeUndefined();
  });

  it("an older series' task under the same key is not taken for this take's: a stand-in key, once", async () => {
    const request = take(undefined); // (the element is younger than a day)
    clockOffsetMs = -24 * 3600 * 1000; // a series of the same name, a day ago
    const old = await kling.submit(request);
    clockOffsetMs = 0;
    const notBefore = new Date(Date.now() - 5_000);
    expect(await kling.findJob(request, notBefore)).toBeUndefined();
    const fresh = await kling.submit(request);
    expect(fresh.jobId).not.toBe(old.jobId);
    expect(await kling.findJob(request, notBefore)).toBe(fresh.jobId);
    expect((await kling.submit(request)).jobId).toBe(fresh.jobId);
    expect(entriesFor(request.idempotencyKey).map((e) => e.idempotencyKey)).toEqual([
      request.idempotencyKey,
      `${request.idempotencyKey}~${old.jobId}`,
    ]);
  });
});

describe('error kinds from Kling codes', () => {
  let elementId: string;
  beforeAll(async () => {
    elementId = await element();
  });

  const cases: Array<[string, Scenario['contracts'], string, string]> = [
    ['rate limit 1302', { kling: { rateLimit: { retryAfterSeconds: 3 } } }, 'rate_limited', 'rate_limited'],
    ['balance 1102', { kling: { balanceExhausted: {} } }, 'unavailable', 'insufficient_balance'],
    ['input moderation 1301', { kling: { submitModeration: {} } }, 'rejected', 'content_violation'],
    ['policy 1300', { kling: { sentinelBlock: {} } }, 'unavailable', 'policy_blocked'],
    ['internal 5000', { kling: { serverErrors: { status: 500 } } }, 'transient', 'internal_error'],
    ['maintenance 5001', { kling: { serverErrors: { status: 503 } } }, 'transient', 'service_unavailable'],
    ['timeout 5002', { kling: { serverErrors: { status: 502 } } }, 'transient', 'timeout'],
    ['key refused 1002', { kling: { down: { status: 401 } } }, 'unavailable', 'invalid_api_key'],
    ['no access 1103', { kling: { down: { status: 403 } } }, 'unavailable', 'permission_denied'],
    ['model gone 1203', { kling: { down: { status: 404 } } }, 'unavailable', 'model_not_found'],
    ['body cut short', { kling: { malformed: {} } }, 'transient', 'contract_violation'],
    ['body off the contract', { kling: { contractBreak: {} } }, 'transient', 'contract_violation'],
  ];
  it.each(cases)('%s', async (_name, contracts, kind, code) => {
    under(contracts);
    const request = take(elementId);
    const err = await providerError(kling.submit(request));
    expect([err.kind, err.code]).toEqual([kind, code]);
    expect(err.message).not.toContain(KEYS.kling);
    if (kind !== 'transient') expect(entriesFor(request.idempotencyKey)).toHaveLength(0);
  });

  it("1302 carries Kling's Retry-After when it sends one (1303 without one: see below)", async () => {
    under({ kling: { rateLimit: { retryAfterSeconds: 3 } } });
    expect((await providerError(kling.submit(take(elementId)))).retryAfterMs).toBe(3000);
    under({ kling: { rateLimit: { retryAfterSeconds: 0 } } });
    expect((await providerError(kling.submit(take(elementId)))).retryAfterMs).toBe(0);
  });

  it('1303: over the pack concurrency is rate limited, nothing created', async () => {
    await noTaskRunning();
    under({ kling: { maxConcurrentJobs: 1 } });
    await kling.submit(take(elementId, { prompt: '@character waits' }));
    const request = take(elementId);
    const err = await providerError(kling.submit(request));
    expect([err.kind, err.code, err.retryAfterMs]).toEqual(['rate_limited', 'concurrency_limit_exceeded', 10_000]);
    expect(entriesFor(request.idempotencyKey)).toHaveLength(0);
  });

  it('a wrong key is unavailable', async () => {
    const err = await providerError(providerWith({ SORA_KLING_KEY: 'wrong-key' }).submit(take(elementId)));
    expect([err.kind, err.code]).toEqual(['unavailable', 'invalid_api_key']);
  });

  it('a revoked element is a typed character_revoked (the series can make it again)', async () => {
    under({ kling: { revokedCharacters: [elementId] } });
    const err = await providerError(kling.submit(take(elementId)));
    expect([err.kind, err.code]).toEqual(['unavailable', 'character_revoked']);
  });

  it('output moderation fails the job as rejected; an overloaded job as transient', async () => {
    sim.setScenario({ rejectWord: 'forbidden' });
    const rejected = await kling.submit(take(elementId, { prompt: '@character does something forbidden' }));
    expect((await awaitJob(rejected.jobId)).error?.kind).toBe('rejected');
    under({ kling: { failJobs: { code: 'processing_error' } } });
    const failed = await kling.submit(take(elementId));
    expect((await awaitJob(failed.jobId)).error?.kind).toBe('transient');
  });

  it('a stuck job stays running', async () => {
    under({ kling: { stuck: { at: 99 } } });
    const { jobId } = await kling.submit(take(elementId));
    await new Promise((resolve) => setTimeout(resolve, 400)); // past its whole simulated duration
    expect((await kling.getJob(jobId)).state).toBe('running');
  });

  it('a result cleared after its time is gone (asset_expired); an unknown task is not listed (transient)', async () => {
    sim.setScenario({ contracts: { kling: { endpoints: { file: { contentTtlSeconds: 0.001 } } } } });
    const { jobId } = await kling.submit(take(elementId));
    await awaitJob(jobId);
    const err = await providerError(kling.download(jobId).then(collect));
    expect([err.kind, err.code]).toEqual(['invalid', 'asset_expired']);
    const unknown = await providerError(kling.getJob('930831539999999999'));
    expect([unknown.kind, unknown.code]).toEqual(['transient', 'task_not_listed']);
  });
});
