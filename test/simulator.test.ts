/**
 * The simulator over real HTTP: the relay-v1 contract end to end, fault scenarios, the ledger's
 * billing, reset, and determinism under a seed (with a stepped clock, so no test sleeps long).
 */
import { createHash } from 'node:crypto';
import { ScenarioError, startSimulator, type RunningSimulator } from '../simulator/server';
import { callSimulator, errorCodeOf, SIM_TEST_KEYS, simulatorsPerTest } from './helpers/simulator-calls';

const KEYS = SIM_TEST_KEYS;

type Body = Record<string, unknown>;
const call = callSimulator;

const relayGenerate = (sim: RunningSimulator, body: Body, headers?: Record<string, string>) =>
  call(sim, 'POST', '/relay/sora/generate', { body, headers });
const relayTask = (sim: RunningSimulator, id: string) => call(sim, 'GET', `/relay/sora/tasks/${id}`);
const officialCreate = (sim: RunningSimulator, body: Body) => call(sim, 'POST', '/v1/videos', { body });

async function waitForTask(sim: RunningSimulator, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { json } = await relayTask(sim, id);
    if (json.status === 'completed' || json.status === 'failed') return json;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${String(json.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

async function waitForVideo(sim: RunningSimulator, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { json } = await call(sim, 'GET', `/v1/videos/${id}`);
    if (json.status === 'completed' || json.status === 'failed') return json;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${String(json.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

const errorCode = errorCodeOf;

const start = simulatorsPerTest({ jobSeconds: 0.2 });

describe('relay-v1 contract', () => {
  it('runs the whole flow: characters (create, extract, list), generate with @char, poll, download', async () => {
    const sim = await start();
    const created = await call(sim, 'POST', '/relay/sora/characters', {
      body: { video_url: `${sim.url}/clips/hero.mp4`, name: 'Hero', description: 'a tall sailor in a red coat' },
    });
    expect(created.status).toBe(200);
    const heroId = created.json.character_id as string;
    expect(heroId).toMatch(/^char_/);

    const extracted = await call(sim, 'POST', '/relay/sora/characters/extract', {
      body: { task_id: 'task_demo_origin', name: 'Origin' },
    });
    expect(extracted.status).toBe(200);
    const originId = extracted.json.character_id as string;

    const listed = await call(sim, 'GET', '/relay/sora/characters');
    expect(listed.json.characters).toEqual([
      {
        character_id: heroId,
        name: 'Hero',
        description: 'a tall sailor in a red coat',
        created_at: expect.any(Number),
      },
      { character_id: originId, name: 'Origin', description: null, created_at: expect.any(Number) },
    ]);

    const generated = await relayGenerate(sim, {
      prompt: `@${heroId} walking by the sea with @${originId}`,
      duration: 15,
    });
    expect(generated.status).toBe(200);
    const taskId = generated.json.task_id as string;
    expect(taskId).toMatch(/^task_/);
    const firstLook = await relayTask(sim, taskId);
    expect(firstLook.json).toEqual({
      task_id: taskId,
      status: expect.stringMatching(/^(queued|processing)$/),
      progress: expect.any(Number),
    });

    const done = await waitForTask(sim, taskId);
    expect(done).toEqual({
      task_id: taskId,
      status: 'completed',
      progress: 100,
      video_url: `${sim.url}/relay/files/${taskId}.mp4`,
    });
    const file = await fetch(done.video_url as string); // no auth, like a CDN URL
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('video/mp4');
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.toString('latin1', 4, 8)).toBe('ftyp');

    const other = await waitForTask(
      sim,
      (await relayGenerate(sim, { prompt: 'another scene' })).json.task_id as string,
    );
    const otherBytes = Buffer.from(await (await fetch(other.video_url as string)).arrayBuffer());
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(otherBytes)).not.toBe(sha(bytes));

    const entry = sim.ledger().find((e) => e.jobId === taskId);
    expect(entry).toMatchObject({
      contract: 'relay-v1',
      seconds: 15,
      billedUsd: 0.12,
      status: 'completed',
      characterIds: [heroId, originId],
    });
  });

  it('refuses what real relays refuse', async () => {
    const sim = await start();
    const badKey = await call(sim, 'GET', '/relay/sora/characters', { key: 'nope' });
    expect(badKey).toEqual({
      status: 401,
      json: { error: { code: 'token_invalidated', message: 'Could not parse your authentication token' } },
    });
    expect((await call(sim, 'GET', '/relay/sora/characters', { key: null })).status).toBe(401);

    const cameo = await relayGenerate(sim, { prompt: '@char_ghost waves' });
    expect([cameo.status, errorCode(cameo)]).toEqual([400, 'cameo_not_found']);
    const duration = await relayGenerate(sim, { prompt: 'x', duration: 12 });
    expect([duration.status, errorCode(duration)]).toEqual([400, 'invalid_duration']);
    expect((await relayGenerate(sim, { duration: 10 })).status).toBe(400);

    const ftp = await call(sim, 'POST', '/relay/sora/characters', {
      body: { video_url: 'ftp://example.com/a.mp4', name: 'X' },
    });
    expect([ftp.status, errorCode(ftp)]).toEqual([400, 'invalid_video_url']);
    const unknownTask = await call(sim, 'POST', '/relay/sora/characters/extract', {
      body: { task_id: 'task_nope', name: 'X' },
    });
    expect([unknownTask.status, errorCode(unknownTask)]).toEqual([404, 'task_not_found']);
    sim.setScenario({ jobSeconds: 60 }); // so "not completed yet" cannot race the clock
    const running = (await relayGenerate(sim, { prompt: 'still rendering' })).json.task_id as string;
    const early = await call(sim, 'POST', '/relay/sora/characters/extract', { body: { task_id: running, name: 'X' } });
    expect([early.status, errorCode(early)]).toEqual([400, 'task_not_completed']);

    expect((await relayTask(sim, 'task_nope')).status).toBe(404);
    expect(errorCode(await call(sim, 'GET', '/relay/sora/unknown'))).toBe('route_not_found');
    expect((await fetch(`${sim.url}/relay/files/task_nope.mp4`)).status).toBe(404);
    expect(sim.ledger()).toHaveLength(1);
  });

  it('honours Idempotency-Key', async () => {
    const sim = await start();
    const first = await relayGenerate(sim, { prompt: 'harbour' }, { 'Idempotency-Key': 'k-1' });
    const again = await relayGenerate(sim, { prompt: 'harbour' }, { 'Idempotency-Key': 'k-1' });
    const other = await relayGenerate(sim, { prompt: 'harbour' }, { 'Idempotency-Key': 'k-2' });
    expect(again.json.task_id).toBe(first.json.task_id);
    expect(other.json.task_id).not.toBe(first.json.task_id);
    expect(sim.ledger().map((e) => e.idempotencyKey)).toEqual(['k-1', 'k-2']);
  });
});

describe('scenarios', () => {
  it('takes relay-v1 down with 403 from the start; the official side keeps working', async () => {
    const sim = await start({ scenario: { contracts: { 'relay-v1': { down: { status: 403 } } } } });
    const refused = await relayGenerate(sim, { prompt: 'x' });
    expect(refused).toEqual({
      status: 403,
      json: { error: { code: 'access_denied', message: 'Access denied: free accounts are blocked.' } },
    });
    expect((await call(sim, 'GET', '/relay/sora/characters', { key: 'wrong' })).status).toBe(403); // down beats auth
    expect((await officialCreate(sim, { prompt: 'fine' })).status).toBe(200);
    const admin = await call(sim, 'GET', '/admin/ledger', { key: null });
    expect(admin.json.calls).toEqual({ official: 1, 'relay-v1': 2, kling: 0 });
    expect(sim.ledger()).toHaveLength(1);
  });

  it('takes a contract down after N calls, counted from when the scenario is set', async () => {
    const sim = await start();
    await relayGenerate(sim, { prompt: 'before the drill' });
    const set = await call(sim, 'POST', '/admin/scenario', {
      key: null,
      body: { contracts: { 'relay-v1': { down: { status: 401, afterCalls: 2 } } } },
    });
    expect(set.status).toBe(200);
    expect((await call(sim, 'GET', '/admin/scenario', { key: null })).json).toEqual({
      contracts: { 'relay-v1': { down: { status: 401, afterCalls: 2 } } },
    });
    expect((await relayGenerate(sim, { prompt: 'one' })).status).toBe(200);
    expect((await call(sim, 'GET', '/relay/sora/characters')).status).toBe(200);
    const third = await relayGenerate(sim, { prompt: 'three' });
    expect([third.status, errorCode(third)]).toEqual([401, 'token_invalidated']);

    sim.setScenario({ contracts: { official: { down: { status: 404 } } } });
    expect((await relayGenerate(sim, { prompt: 'relay is back' })).status).toBe(200);
    const gone = await officialCreate(sim, { prompt: 'x' });
    expect(gone.status).toBe(404);
    expect(gone.json.error).toEqual({
      message: 'This route is not available.',
      type: 'invalid_request_error',
      param: null,
      code: 'route_not_found',
    });
    sim.setScenario({ contracts: { official: { down: { status: 403 } } } });
    expect((await officialCreate(sim, { prompt: 'x' })).json.error).toMatchObject({
      code: 'access_denied',
      type: 'permission_error',
    });
  });

  it('rejects malformed scenarios', async () => {
    const sim = await start();
    const typo = await call(sim, 'POST', '/admin/scenario', {
      key: null,
      body: { contracts: { relay: { down: { status: 403 } } } },
    });
    expect([typo.status, errorCode(typo)]).toEqual([400, 'invalid_scenario']);
    expect(() => sim.setScenario({ contracts: { official: { down: { status: 500 as 403 } } } })).toThrow(ScenarioError);
    expect(sim.scenario()).toEqual({});
    await expect(startSimulator({ keys: KEYS, scenario: { rejectWord: '' } })).rejects.toThrow(ScenarioError);
  });

  it('accepts prompts with the reject word, then fails them with moderation_blocked (still billed)', async () => {
    const sim = await start({ scenario: { rejectWord: 'FORBIDDEN' } });
    const task = (await relayGenerate(sim, { prompt: 'a forbidden dance' })).json.task_id as string;
    const video = (await officialCreate(sim, { prompt: 'The FORBIDDEN city', seconds: '8' })).json.id as string;
    const clean = (await relayGenerate(sim, { prompt: 'a permitted dance' })).json.task_id as string;

    const failedTask = await waitForTask(sim, task);
    expect(failedTask.status).toBe('failed');
    expect(failedTask.error).toMatch(/^moderation_blocked: /);
    expect(failedTask.video_url).toBeUndefined();
    const failedVideo = await waitForVideo(sim, video);
    expect(failedVideo).toMatchObject({
      status: 'failed',
      expires_at: null,
      error: { code: 'moderation_blocked', message: expect.any(String) },
    });
    expect((await waitForTask(sim, clean)).status).toBe('completed');

    const byJob = new Map(sim.ledger().map((e) => [e.jobId, e]));
    expect(byJob.get(task)).toMatchObject({ status: 'failed', billedUsd: 0.12 });
    expect(byJob.get(video)).toMatchObject({ status: 'failed', billedUsd: 0.8 });
  });

  it('overrides the generation time with jobSeconds', async () => {
    let now = 1_800_000_000_000;
    const sim = await start({ now: () => now, jitter: 0, jobSeconds: 1 });
    sim.setScenario({ jobSeconds: 100 });
    const task = (await relayGenerate(sim, { prompt: 'slow' })).json.task_id as string;
    now += 60_000;
    expect((await relayTask(sim, task)).json).toMatchObject({ status: 'processing', progress: 55 });
    now += 40_000;
    expect((await relayTask(sim, task)).json.status).toBe('completed');
  });
});

describe('ledger, progression and reset', () => {
  it('bills each accepted submission at the contract price and counts every call', async () => {
    let now = 1_800_000_000_000;
    const sim = await start({ now: () => now });
    await officialCreate(sim, { prompt: 'a', seconds: '8' }); // sora-2: 0.10/s
    await officialCreate(sim, { prompt: 'b', model: 'sora-2-pro', size: '1280x720', seconds: '4' }); // 0.30/s
    await officialCreate(sim, { prompt: 'c', model: 'sora-2-pro', size: '1024x1792', seconds: '8' }); // 0.50/s
    await officialCreate(sim, { prompt: 'd', model: 'sora-2-pro', size: '1920x1080', seconds: '12' }); // 0.70/s
    await officialCreate(sim, { prompt: 'e', seconds: '20' });
    await relayGenerate(sim, { prompt: 'f' });
    await officialCreate(sim, { prompt: 'refused', seconds: '3' }); // 400: counted, not billed
    await call(sim, 'GET', '/relay/sora/characters', { key: 'wrong' }); // 401: counted

    const calls = (await call(sim, 'GET', '/admin/ledger', { key: null })).json.calls;
    expect(calls).toEqual({ official: 6, 'relay-v1': 2, kling: 0 }); // admin calls are not contract calls

    const entries = sim.ledger();
    expect(entries.map((e) => [e.seq, e.contract, e.prompt, e.billedUsd])).toEqual([
      [1, 'official', 'a', 0.8],
      [2, 'official', 'b', 1.2],
      [3, 'official', 'c', 4],
      [4, 'official', 'd', 8.4],
      [5, 'official', 'e', 2],
      [6, 'relay-v1', 'f', 0.12],
    ]);
    expect(entries[3]).toMatchObject({
      model: 'sora-2-pro',
      size: '1920x1080',
      seconds: 12,
      status: 'queued',
      characterIds: [],
    });
    expect(entries[5].model).toBeUndefined();
    expect(new Date(entries[0].at).toISOString()).toBe(entries[0].at);

    const first = entries[0].jobId;
    now += 3_000; // past jobSeconds + jitter
    const remix = await call(sim, 'POST', `/v1/videos/${first}/remix`, { body: { prompt: 'a again' } });
    expect(remix.json.remixed_from_video_id).toBe(first);
    const admin = await call(sim, 'GET', '/admin/ledger', { key: null });
    expect(admin.json.entries).toEqual(sim.ledger());
    expect((admin.json.entries as Array<{ billedUsd: number; status: string }>).at(-1)).toMatchObject({
      billedUsd: 0.8,
      status: 'queued',
    });
    expect((admin.json.entries as Array<{ status: string }>)[0].status).toBe('completed');
  });

  it('progresses jobs lazily from the clock: queued, running 0..99, completed, then content expires', async () => {
    let now = 1_800_000_000_000;
    const sim = await start({ now: () => now, jitter: 0, jobSeconds: 10, contentTtlSeconds: 60 });
    const task = (await relayGenerate(sim, { prompt: 'tide' })).json.task_id as string;
    const video = (await officialCreate(sim, { prompt: 'tide' })).json.id as string;
    const look = async () => [(await relayTask(sim, task)).json, (await call(sim, 'GET', `/v1/videos/${video}`)).json];

    now += 500;
    expect((await look()).map((j) => [j.status, j.progress])).toEqual([
      ['queued', 0],
      ['queued', 0],
    ]);
    now += 5_000;
    expect((await look()).map((j) => [j.status, j.progress])).toEqual([
      ['processing', 50],
      ['in_progress', 50],
    ]);
    now += 4_499;
    expect((await look()).map((j) => [j.status, j.progress])).toEqual([
      ['processing', 99],
      ['in_progress', 99],
    ]);
    now += 1;
    const [relayDone, officialDone] = await look();
    expect([relayDone.status, officialDone.status]).toEqual(['completed', 'completed']);
    expect(officialDone.completed_at).toBe(1_800_000_010);
    expect(officialDone.expires_at).toBe(1_800_000_070);
    expect((await fetch(relayDone.video_url as string)).status).toBe(200);

    now += 60_000;
    const expired = await call(sim, 'GET', `/v1/videos/${video}/content`);
    expect([expired.status, errorCode(expired)]).toEqual([404, 'content_expired']);
    expect((await fetch(relayDone.video_url as string)).status).toBe(404);
  });

  it('reset forgets jobs, characters, ledger and calls but keeps the seeded task', async () => {
    const sim = await start({ seed: 5 });
    const firstId = (await relayGenerate(sim, { prompt: 'x' })).json.task_id;
    await call(sim, 'POST', '/relay/sora/characters', { body: { video_url: 'https://cdn.example/a.mp4', name: 'A' } });
    expect((await call(sim, 'POST', '/admin/reset', { key: null })).json).toEqual({ reset: true });
    const admin = await call(sim, 'GET', '/admin/ledger', { key: null });
    expect(admin.json).toEqual({
      entries: [],
      calls: { official: 0, 'relay-v1': 0, kling: 0 },
      callsByEndpoint: { official: {}, 'relay-v1': {}, kling: {} },
    });
    expect((await call(sim, 'GET', '/relay/sora/characters')).json).toEqual({ characters: [] });
    expect((await relayTask(sim, 'task_demo_origin')).json).toMatchObject({ status: 'completed' });
    expect((await relayGenerate(sim, { prompt: 'x' })).json.task_id).toBe(firstId); // as reproducible as a fresh start
  });
});

describe('determinism', () => {
  /** Drive two simulators through the same calls on one stepped clock and record what they say. */
  async function transcript(seed: number): Promise<{ ids: string[]; timeline: string[] }> {
    let now = 1_800_000_000_000;
    const sim = await start({ seed, now: () => now, jobSeconds: 10, jitter: 0.2 });
    const ids: string[] = [];
    ids.push(
      (
        await call(sim, 'POST', '/relay/sora/characters', {
          body: { video_url: 'https://cdn.example/h.mp4', name: 'H' },
        })
      ).json.character_id as string,
    );
    for (let i = 0; i < 3; i++) ids.push((await relayGenerate(sim, { prompt: `scene ${i}` })).json.task_id as string);
    for (let i = 0; i < 3; i++) ids.push((await officialCreate(sim, { prompt: `scene ${i}` })).json.id as string);
    const timeline: string[] = [];
    for (let step = 0; step <= 65; step++) {
      const tasks = await Promise.all(ids.slice(1, 4).map((id) => relayTask(sim, id)));
      const videos = await Promise.all(ids.slice(4).map((id) => call(sim, 'GET', `/v1/videos/${id}`)));
      timeline.push([...tasks, ...videos].map((r) => `${String(r.json.status)}:${String(r.json.progress)}`).join(' '));
      now += 200;
    }
    return { ids, timeline };
  }

  it('gives the same ids and durations under the same seed, different ones under another', async () => {
    const a = await transcript(42);
    const b = await transcript(42);
    const c = await transcript(43);
    expect(b).toEqual(a);
    expect(c.ids).not.toEqual(a.ids);
    expect(c.timeline).not.toEqual(a.timeline);
    // Jitter is real: the six jobs do not all finish at the same step, and all within 10 s ± 20 %.
    const finishStep = (job: number) => a.timeline.findIndex((line) => line.split(' ')[job] === 'completed:100');
    const steps = [0, 1, 2, 3, 4, 5].map(finishStep);
    expect(new Set(steps).size).toBeGreaterThan(1);
    for (const step of steps) expect(step).toBeGreaterThanOrEqual(40); // 200 ms steps
    for (const step of steps) expect(step).toBeLessThanOrEqual(60);
  });
});
