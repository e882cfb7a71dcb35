/**
 * The fal adapter over real HTTP against the simulator's fal twin: stills to fal storage, a take
 * on each model family (the twin checks each model's input as its schema does), every error kind
 * from fal's own bodies, and at most once per take: lost submit answers are found in fal's
 * request list, never sent again blindly.
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FalProvider } from '../activities/providers/fal';
import { FalReferenceGoneError, FalSubmitUncertainError } from '../activities/providers/fal-errors';
import type { JobStatus, LocalFile, SubmitRequest, TakeCharacter } from '../activities/providers/provider';
import { createProviders } from '../activities/providers/registry';
import { SIM_FAL_KEY, startSimulator, type RunningSimulator } from '../simulator/server';
import { falConfig, SEEDANCE, stillsOf } from './helpers/fal';
import { collect, providerError } from './helpers/provider-calls';
import type { CharacterRef } from '../workflows/types';

const ENV = { SORA_FAL_KEY: SIM_FAL_KEY };
let sim: RunningSimulator;
let dir: string;
let stills: LocalFile[];
let seedance: FalProvider;
let mira: CharacterRef;

function fal(entry: Parameters<typeof falConfig>[1] = {}, env: NodeJS.ProcessEnv = ENV): FalProvider {
  return createProviders(falConfig(sim, { timeoutMs: 2000, ...entry }), env).get('fal') as FalProvider;
}

const character = (ref: CharacterRef): TakeCharacter => ({
  token: '@character',
  name: 'Mira',
  description: 'a red-haired courier',
  ref,
  stills,
});

let serial = 0;
function take(ref: CharacterRef, overrides: Partial<SubmitRequest> = {}): SubmitRequest {
  return {
    prompt: `@character runs along the harbour wall, take ${++serial}`,
    seconds: 5,
    size: '720x1280',
    characters: [character(ref)],
    idempotencyKey: `series/fal-test/scene-${serial}/take-1`,
    ...overrides,
  };
}

async function finished(provider: FalProvider, jobId: string): Promise<JobStatus> {
  for (;;) {
    const status = await provider.getJob(jobId);
    if (status.state === 'completed' || status.state === 'failed') return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The twin's storage file id in a CDN URL (`/fal/cdn/files/<id>/<name>`): what `revokedCharacters` names. */
const fileIdOf = (url: string) => url.split('/').slice(-2)[0];

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const ledgerOf = (jobId: string) => sim.ledger().filter((e) => e.jobId === jobId);
const falEntries = () => sim.ledger().filter((e) => e.contract === 'fal');

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 11, jobSeconds: 0.2, keys: { official: 'o', relay: 'r' } });
  dir = await mkdtemp(join(tmpdir(), 'providers-fal-'));
  stills = await stillsOf(sim.url, dir);
  seedance = fal();
  mira = await seedance.createCharacter({
    name: 'Mira',
    description: 'a red-haired courier',
    clip: { url: '', path: '' },
    stills,
  });
});

afterEach(() => sim.setScenario({}));

afterAll(async () => {
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('characters', () => {
  it('uploads the stills to fal storage and holds the character by their URLs', async () => {
    expect(mira).toMatchObject({ hold: 'referenced', mention: 'Mira' });
    expect(mira.references).toHaveLength(stills.length);
    for (const [i, url] of mira.references!.entries()) {
      expect(url.startsWith(`${sim.url}/fal/cdn/files/`)).toBe(true);
      const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(stills[i].sha256);
    }
    expect(mira.id).toMatch(/^refs_[0-9a-f]{24}$/);
  });

  it('Kling O3 needs a frontal still and at least one more', async () => {
    const kling = fal({ model: 'fal-ai/kling-video/o3/pro/reference-to-video' });
    const err = await providerError(
      kling.createCharacter({
        name: 'Mira',
        description: 'x',
        clip: { url: '', path: '' },
        stills: stills.slice(0, 1),
      }),
    );
    expect(err).toMatchObject({ kind: 'invalid', code: 'too_few_stills' });
  });
});

describe('a take on each model', () => {
  it('Seedance 2.0: @Image tokens, image_urls, billed per second at 720p', async () => {
    const request = take(mira);
    const { jobId } = await seedance.submit(request);
    expect(jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await finished(seedance, jobId)).toEqual({ jobId, state: 'completed', progress: 100 });
    const bytes = await collect(await seedance.download(jobId));
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const [entry] = ledgerOf(jobId);
    expect(entry).toMatchObject({ model: SEEDANCE, seconds: 5, size: '720x1280', billedUsd: 1.512 });
    expect(entry.prompt).toBe(`Mira (@Image1 @Image2 @Image3) runs along the harbour wall, take ${serial}`);
    expect(entry.characterIds).toEqual(mira.references!.map(fileIdOf));
  });

  it.each([
    ['fal-ai/kling-video/o3/pro/reference-to-video', 5, '@Element1 runs', 0.56],
    ['fal-ai/veo3.1/reference-to-video', 8, 'Mira (the person in the reference images) runs', 1.6],
    ['google/gemini-omni-flash/reference-to-video', 6, 'Mira (<IMAGE_REF_0> <IMAGE_REF_1> <IMAGE_REF_2>) runs', 0.78],
  ])('%s: its own input, accepted by the twin, billed at its price', async (model, seconds, prompt, usd) => {
    const provider = fal({ model });
    const ref = await provider.createCharacter({ name: 'Mira', description: 'x', clip: { url: '', path: '' }, stills });
    const { jobId } = await provider.submit(take(ref, { seconds }));
    expect((await finished(provider, jobId)).state).toBe('completed');
    expect((await collect(await provider.download(jobId))).length).toBeGreaterThan(1000);
    const [entry] = ledgerOf(jobId);
    expect(entry.prompt.startsWith(prompt)).toBe(true);
    expect(entry).toMatchObject({ model, seconds, billedUsd: usd });
  });

  it('refuses, for free, a duration or size the model does not render and a take without references', async () => {
    const before = falEntries().length;
    expect(await providerError(seedance.submit(take(mira, { seconds: 3 })))).toMatchObject({
      kind: 'invalid',
      code: 'unsupported_request',
    });
    expect(await providerError(seedance.submit(take(mira, { size: '1024x1792' })))).toMatchObject({ kind: 'invalid' });
    const described = { ...character(mira), ref: undefined };
    expect(await providerError(seedance.submit(take(mira, { characters: [described] })))).toMatchObject({
      kind: 'invalid',
      code: 'no_references',
    });
    expect(falEntries()).toHaveLength(before);
  });

  it('status and result name the app only: the full model path there is not a route', async () => {
    const { jobId } = await seedance.submit(take(mira));
    const wrong = await fetch(`${sim.fal.queueUrl}/${SEEDANCE}/requests/${jobId}/status`, {
      headers: { Authorization: `Key ${SIM_FAL_KEY}` },
    });
    expect(wrong.status).toBe(404);
    const right = await fetch(`${sim.fal.queueUrl}/bytedance/seedance-2.0/requests/${jobId}/status`, {
      headers: { Authorization: `Key ${SIM_FAL_KEY}` },
    });
    expect([200, 202]).toContain(right.status);
  });
});

describe('errors, from fal bodies to kinds', () => {
  it('a wrong key is unavailable, and the key is not in the message', async () => {
    const err = await providerError(fal({}, { SORA_FAL_KEY: 'wrong-key-id:wrong-key-secret-0123' }).submit(take(mira)));
    expect(err).toMatchObject({ kind: 'unavailable', status: 401, code: 'unauthorized' });
    expect(err.message).not.toContain('wrong-key-secret');
  });

  it('an exhausted balance (403 locked) is unavailable', async () => {
    sim.setScenario({ contracts: { fal: { down: { status: 403 } } } });
    expect(await providerError(seedance.submit(take(mira)))).toMatchObject({
      kind: 'unavailable',
      code: 'balance_exhausted',
    });
  });

  it('429 is rate-limited with the Retry-After it sent', async () => {
    sim.setScenario({ contracts: { fal: { endpoints: { submit: { rateLimit: { retryAfterSeconds: 7 } } } } } });
    expect(await providerError(seedance.submit(take(mira)))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 7000,
    });
  });

  it('a 500/502/503 on submit is transient and bought nothing', async () => {
    const before = falEntries().length;
    sim.setScenario({ contracts: { fal: { endpoints: { submit: { serverErrors: { status: 503 } } } } } });
    expect(await providerError(seedance.submit(take(mira)))).toMatchObject({ kind: 'transient', status: 503 });
    expect(falEntries()).toHaveLength(before);
  });

  it('moderation at submit (the content checker) is rejected', async () => {
    sim.setScenario({ contracts: { fal: { sentinelBlock: {} } } });
    expect(await providerError(seedance.submit(take(mira)))).toMatchObject({
      kind: 'rejected',
      code: 'content_policy_violation',
    });
  });

  it('moderation at output: COMPLETED, then the result says content_policy_violation: rejected', async () => {
    sim.setScenario({ rejectWord: 'forbidden' });
    const { jobId } = await seedance.submit(take(mira, { prompt: '@character does something forbidden' }));
    const status = await finished(seedance, jobId);
    expect(status).toMatchObject({ state: 'failed', error: { kind: 'rejected', code: 'content_policy_violation' } });
  });

  it('a runner failure (COMPLETED with error) is transient and not billed', async () => {
    sim.setScenario({ contracts: { fal: { failJobs: { code: 'processing_error' } } } });
    const { jobId } = await seedance.submit(take(mira));
    const status = await finished(seedance, jobId);
    expect(status).toMatchObject({ state: 'failed', error: { kind: 'transient', code: 'runner_disconnected' } });
    sim.setScenario({});
    expect(ledgerOf(jobId)[0]).toMatchObject({ billedUsd: 0 });
  });

  it('a malformed or off-contract status body is transient', async () => {
    const { jobId } = await seedance.submit(take(mira));
    sim.setScenario({ contracts: { fal: { endpoints: { status: { malformed: {} } } } } });
    expect(await providerError(seedance.getJob(jobId))).toMatchObject({
      kind: 'transient',
      code: 'contract_violation',
    });
    sim.setScenario({ contracts: { fal: { endpoints: { status: { contractBreak: {} } } } } });
    expect(await providerError(seedance.getJob(jobId))).toMatchObject({
      kind: 'transient',
      code: 'contract_violation',
    });
    sim.setScenario({});
    await finished(seedance, jobId); // leaves nothing running for the concurrency case
  });

  it('an unknown request id is invalid', async () => {
    expect(await providerError(seedance.getJob('00000000-0000-4000-8000-000000000000'))).toMatchObject({
      kind: 'invalid',
      status: 404,
    });
  });

  it('a concurrency limit refusal is rate-limited', async () => {
    sim.setScenario({ jobSeconds: 30, contracts: { fal: { maxConcurrentJobs: 1 } } });
    await seedance.submit(take(mira));
    expect(await providerError(seedance.submit(take(mira)))).toMatchObject({ kind: 'rate_limited' });
  });

  it('a stuck job stays in progress', async () => {
    sim.setScenario({ contracts: { fal: { stuck: { at: 99 } } } });
    const { jobId } = await seedance.submit(take(mira));
    const status = await seedance.getJob(jobId);
    expect(['queued', 'running']).toContain(status.state);
  });

  it('reference images gone from storage: a typed error before anything is bought', async () => {
    const before = falEntries().length;
    sim.setScenario({ contracts: { fal: { revokedCharacters: [fileIdOf(mira.references![0])] } } });
    const err = await providerError(seedance.submit(take(mira)));
    expect(err).toBeInstanceOf(FalReferenceGoneError);
    expect(err).toMatchObject({ kind: 'unavailable', code: 'character_reference_gone' });
    expect((err as FalReferenceGoneError).urls).toEqual([mira.references![0]]);
    expect(falEntries()).toHaveLength(before);
  });

  it('reference images gone after the submit: the job fails with character_reference_gone, unbilled', async () => {
    const other = await seedance.createCharacter({
      name: 'Mira',
      description: 'x',
      clip: { url: '', path: '' },
      stills,
    });
    // the model fetches the images when it starts, by then deleted from storage
    sim.setScenario({ contracts: { fal: { revokeAllCharacters: true } } });
    const response = await fetch(`${sim.fal.queueUrl}/${SEEDANCE}`, {
      method: 'POST',
      headers: { Authorization: `Key ${SIM_FAL_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: '@Image1 waves', image_urls: other.references, duration: '5' }),
    });
    const { request_id } = (await response.json()) as { request_id: string };
    const status = await finished(seedance, request_id);
    expect(status).toMatchObject({ state: 'failed', error: { kind: 'unavailable', code: 'character_reference_gone' } });
    expect(ledgerOf(request_id)[0]).toMatchObject({ billedUsd: 0 });
  });
});

describe('at most once per take (fal has no idempotency key)', () => {
  it.each([
    ['the connection reset after fal took it', { reset: { afterHandling: true } }],
    ['a 504 after fal queued it', { errorAfterAccept: { status: 504 } }],
  ] as const)('%s: the request is found in the request list, bought once', async (_label, fault) => {
    sim.setScenario({ contracts: { fal: { endpoints: { submit: fault } } } });
    const request = take(mira);
    const { jobId } = await seedance.submit(request);
    sim.setScenario({});
    expect(ledgerOf(jobId)).toHaveLength(1);
    expect(falEntries().filter((e) => e.prompt === falEntries().find((x) => x.jobId === jobId)!.prompt)).toHaveLength(
      1,
    );
    expect((await finished(seedance, jobId)).state).toBe('completed');
  });

  it('a lost answer the list does not show: not sent again, reported as an uncertain submission', async () => {
    const before = falEntries().length;
    sim.setScenario({
      contracts: {
        fal: { endpoints: { submit: { reset: { afterHandling: true } }, requests: { down: { status: 404 } } } },
      },
    });
    const err = await providerError(seedance.submit(take(mira)));
    expect(err).toBeInstanceOf(FalSubmitUncertainError);
    expect(err).toMatchObject({ kind: 'unavailable', code: 'submit_uncertain' });
    // one request was bought; the adapter did not buy a second
    expect(falEntries()).toHaveLength(before + 1);
  });

  it('a retried attempt finds the request an earlier attempt made (a 503 after fal queued it)', async () => {
    const request = take(mira);
    const notBefore = new Date();
    sim.setScenario({ contracts: { fal: { endpoints: { submit: { errorAfterAccept: { status: 503 } } } } } });
    expect(await providerError(seedance.submit(request))).toMatchObject({ kind: 'transient' });
    sim.setScenario({});
    const found = await seedance.findJob(request, notBefore);
    expect(found).toBeDefined();
    expect(ledgerOf(found!)).toHaveLength(1);
    // another take of the same scene (same input) made later is not confused with it
    expect(await seedance.findJob(request, new Date(Date.now() + 60_000))).toBeUndefined();
    expect(await seedance.findJob(take(mira), notBefore)).toBeUndefined();
  });

  it('a connection refused before sending is transient: nothing can have been bought', async () => {
    const dead = fal({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    expect(await providerError(dead.submit(take(mira)))).toMatchObject({ kind: 'transient', code: 'network_error' });
  });
});

describe('results expire after an hour', () => {
  let clockSim: RunningSimulator;
  let now = Date.parse('2026-12-01T10:00:00Z');
  beforeAll(async () => {
    clockSim = await startSimulator({
      port: 0,
      seed: 3,
      jobSeconds: 10,
      keys: { official: 'o', relay: 'r' },
      now: () => now,
    });
  });
  afterAll(() => clockSim?.close());

  it('downloads within the hour; after it, the result is gone: invalid, a new take', async () => {
    const provider = createProviders(falConfig(clockSim), ENV).get('fal') as FalProvider;
    const ref = await provider.createCharacter({ name: 'Mira', description: 'x', clip: { url: '', path: '' }, stills });
    const { jobId } = await provider.submit(take(ref));
    expect((await provider.getJob(jobId)).state).toBe('queued');
    now += 11_000;
    expect((await provider.getJob(jobId)).state).toBe('completed');
    expect((await collect(await provider.download(jobId))).subarray(4, 8).toString('latin1')).toBe('ftyp');
    now += 3_600_000;
    expect(await providerError(provider.download(jobId))).toMatchObject({ kind: 'invalid', code: 'result_expired' });
  });
});

describe('the config refuses a bad fal entry, naming the field', () => {
  const problems = (entry: Record<string, unknown>) => {
    try {
      falConfig(sim, entry);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('accepted');
  };
  it.each([
    [{ model: undefined }, 'providers[0].model: is required for fal'],
    [{ model: 'fal-ai/flux/dev' }, 'providers[0].model: "fal-ai/flux/dev" is not a reference-to-video model'],
    [{ model: 'bytedance/seedance-2.0/mini/reference-to-video' }, 'providers[0].price: no known price'],
    [
      { fal: { storageUrl: undefined } },
      'providers[0].fal.storageUrl: is required when baseUrl is not https://queue.fal.run',
    ],
    [
      { fal: { webhookUrl: 'http://127.0.0.1:7071/webhooks/fal' } },
      'providers[0].fal.jwksUrl: is required with fal.webhookUrl',
    ],
    [
      { fal: { webhookToleranceSeconds: -1 } },
      'providers[0].fal.webhookToleranceSeconds: must be a positive number of seconds',
    ],
    [{ fal: { keyId: 'x' } }, 'providers[0].fal.keyId: keys never go in the file'],
    [{ contract: 'relay-v1' }, 'providers[0].fal: only a provider with contract "fal" takes fal settings'],
  ])('%j', (entry, message) => {
    expect(problems(entry)).toContain(message);
  });

  it("defaults: the model's durations and sizes, 2 at once, its price per second", () => {
    const [p] = falConfig(sim).providers;
    expect(p).toMatchObject({
      maxConcurrency: 2,
      seconds: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      sizes: ['720x1280', '1280x720', '1080x1920', '1920x1080'],
    });
    expect(p.pricing).toMatchObject({ per: 'second', usdBySize: { '720x1280': 0.3024 } });
    expect(
      falConfig(sim, { model: 'fal-ai/veo3.1/reference-to-video', fal: { generateAudio: true } }).providers[0],
    ).toMatchObject({ seconds: [8], pricing: { defaultUsd: 0.4 } });
  });
});
