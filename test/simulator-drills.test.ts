/**
 * Fault drills, job and policy level, over real HTTP with a stepped clock (no test sleeps):
 * concurrency limits, stuck jobs, failed generations, time- and call-based policy switches,
 * revoked characters, content expiry, ignored idempotency keys, and the ledger that proves
 * "nothing lost, nothing paid twice".
 */
import type { RunningSimulator, SimulatorOptions } from '../simulator/server';
import { callSimulator, errorCodeOf, SIM_TEST_KEYS, simulatorsPerTest, type SimReply } from './helpers/simulator-calls';

const T0 = 1_800_000_000_000;

const call = callSimulator;

const generate = (sim: RunningSimulator, prompt: string, headers?: Record<string, string>) =>
  call(sim, 'POST', '/relay/sora/generate', { body: { prompt }, headers });
const task = (sim: RunningSimulator, id: string) => call(sim, 'GET', `/relay/sora/tasks/${id}`);
const video = (sim: RunningSimulator, id: string) => call(sim, 'GET', `/v1/videos/${id}`);
const code = errorCodeOf;
const taskId = async (reply: Promise<SimReply>): Promise<string> => (await reply).json.task_id as string;

const startSim = simulatorsPerTest({ jobSeconds: 10, jitter: 0 });
/** A simulator on a stepped clock: jobs take exactly 10 s. */
async function start(
  options: Partial<SimulatorOptions> = {},
): Promise<{ sim: RunningSimulator; step: (ms: number) => void }> {
  let now = T0;
  const sim = await startSim({ now: () => now, ...options });
  return { sim, step: (ms) => (now += ms) };
}

describe('job-level faults', () => {
  it('maxConcurrentJobs answers 429 concurrency_limit while that many jobs are queued or running', async () => {
    const { sim, step } = await start({ scenario: { contracts: { 'relay-v1': { maxConcurrentJobs: 2 } } } });
    const first = await taskId(generate(sim, 'one', { 'Idempotency-Key': 'k-1' }));
    await generate(sim, 'two');
    const third = await generate(sim, 'three');
    expect([third.status, code(third)]).toEqual([429, 'concurrency_limit']);
    expect((await generate(sim, 'one', { 'Idempotency-Key': 'k-1' })).json.task_id).toBe(first); // a replay is no new job
    expect((await call(sim, 'POST', '/v1/videos', { body: { prompt: 'official has no limit' } })).status).toBe(200);
    step(10_000);
    expect((await generate(sim, 'three')).status).toBe(200);
    expect(sim.ledger().filter((e) => e.contract === 'relay-v1')).toHaveLength(3);
  });

  it('stuck keeps matching jobs at 99 % (or queued) forever, even after the scenario is cleared', async () => {
    const { sim, step } = await start({
      scenario: {
        contracts: {
          'relay-v1': { stuck: { at: 99, forever: true, matchWord: 'storm' } },
          official: { stuck: { at: 'queued' } },
        },
      },
    });
    const storm = await taskId(generate(sim, 'a STORM at sea'));
    const calm = await taskId(generate(sim, 'a calm sea'));
    const queued = (await call(sim, 'POST', '/v1/videos', { body: { prompt: 'waiting' } })).json.id as string;
    sim.setScenario({});
    step(3_600_000);
    expect((await task(sim, storm)).json).toEqual({ task_id: storm, status: 'processing', progress: 99 });
    expect((await task(sim, calm)).json.status).toBe('completed');
    expect((await video(sim, queued)).json).toMatchObject({ status: 'queued', progress: 0, completed_at: null });
    const byJob = new Map(sim.ledger().map((e) => [e.jobId, e]));
    expect(byJob.get(storm)).toMatchObject({ status: 'running', finalStatus: null, billedUsd: 0.12 });
    expect(byJob.get(calm)).toMatchObject({ status: 'completed', finalStatus: 'completed', errorCode: null });
  });

  it('failJobs ends every Nth job with processing_error (billed 0) or matching prompts with moderation_blocked', async () => {
    const { sim, step } = await start({
      scenario: {
        contracts: {
          'relay-v1': { failJobs: { code: 'processing_error', every: 2 } },
          official: { failJobs: { code: 'moderation_blocked', matchWord: 'duel' } },
        },
      },
    });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await taskId(generate(sim, `scene ${i}`)));
    const duel = (await call(sim, 'POST', '/v1/videos', { body: { prompt: 'a duel at noon', seconds: '4' } })).json
      .id as string;
    const picnic = (await call(sim, 'POST', '/v1/videos', { body: { prompt: 'a picnic', seconds: '4' } })).json
      .id as string;
    step(10_000);
    const tasks = await Promise.all(ids.map((id) => task(sim, id)));
    expect(tasks.map((t) => t.json.status)).toEqual(['completed', 'failed', 'completed', 'failed']);
    expect(tasks[1].json.error).toBe("processing_error: We're under heavy load, please try again later.");
    expect((await video(sim, duel)).json.error).toMatchObject({ code: 'moderation_blocked' });
    expect((await video(sim, picnic)).json.status).toBe('completed');
    expect(sim.ledger().map((e) => [e.finalStatus, e.errorCode, e.billedUsd])).toEqual([
      ['completed', null, 0.12],
      ['failed', 'processing_error', 0],
      ['completed', null, 0.12],
      ['failed', 'processing_error', 0],
      ['failed', 'moderation_blocked', 0.4],
      ['completed', null, 0.4],
    ]);
  });
});

describe('policy switches', () => {
  it('takes a contract down at a clock time or some seconds after the scenario was set', async () => {
    const { sim, step } = await start();
    step(5_000);
    sim.setScenario({
      contracts: {
        'relay-v1': { down: { status: 401, afterSeconds: 30 } },
        official: { down: { status: 404, atMs: T0 + 20_000 } },
      },
    });
    expect((await call(sim, 'GET', '/relay/sora/characters')).status).toBe(200);
    expect((await call(sim, 'GET', '/v1/videos')).status).toBe(200);
    step(15_000); // T0 + 20 s
    expect(code(await call(sim, 'GET', '/v1/videos'))).toBe('route_not_found');
    expect((await call(sim, 'GET', '/relay/sora/characters')).status).toBe(200);
    step(15_000); // 30 s after set
    const refused = await call(sim, 'GET', '/relay/sora/characters');
    expect([refused.status, code(refused)]).toEqual([401, 'token_invalidated']);
  });

  it('switches after N calls, per endpoint too, and counts every call per endpoint (refused ones included)', async () => {
    const { sim } = await start({
      scenario: { contracts: { 'relay-v1': { endpoints: { generate: { down: { status: 403, afterCalls: 1 } } } } } },
    });
    const ok = await taskId(generate(sim, 'before the switch'));
    expect((await generate(sim, 'after')).status).toBe(403);
    expect((await generate(sim, 'after')).status).toBe(403);
    expect((await task(sim, ok)).status).toBe(200); // only generate is suspended
    await call(sim, 'GET', '/relay/sora/nowhere');
    const calls = sim.calls();
    expect(calls.byEndpoint['relay-v1']).toEqual({ generate: 3, task: 1, unknown: 1 });
    expect(calls.byContract).toEqual({ official: 0, 'relay-v1': 5, kling: 0 });
    const admin = await (await fetch(`${sim.url}/admin/ledger`)).json();
    expect(admin).toEqual({ entries: sim.ledger(), calls: calls.byContract, callsByEndpoint: calls.byEndpoint });
  });

  it('revoked characters answer 403 cameo_permission_denied on both contracts', async () => {
    const { sim } = await start();
    const character = async (name: string) =>
      (await call(sim, 'POST', '/relay/sora/characters', { body: { video_url: `${sim.url}/clips/${name}.mp4`, name } }))
        .json.character_id as string;
    const [ada, bo] = [await character('ada'), await character('bo')];
    const form = new FormData();
    form.append('name', 'Mira');
    form.append(
      'video',
      new Blob([await (await fetch(`${sim.url}/clips/mira.mp4`)).arrayBuffer()], { type: 'video/mp4' }),
      'mira.mp4',
    );
    const mira = (await call(sim, 'POST', '/v1/videos/characters', { body: form })).json.id as string;

    sim.setScenario({
      contracts: { 'relay-v1': { revokedCharacters: [ada] }, official: { revokeAllCharacters: true } },
    });
    const denied = await generate(sim, `@${bo} and @${ada} at the fair`);
    expect([denied.status, code(denied)]).toEqual([403, 'cameo_permission_denied']);
    expect((await generate(sim, `@${bo} alone`)).status).toBe(200);
    const create = new FormData();
    create.append('prompt', 'Mira at the fair');
    create.append('characters[0][id]', mira);
    const official = await call(sim, 'POST', '/v1/videos', { body: create });
    expect(official.status).toBe(403);
    expect(official.json.error).toMatchObject({
      code: 'cameo_permission_denied',
      type: 'permission_error',
      param: 'characters',
    });
    expect(sim.ledger().map((e) => e.prompt)).toEqual([`@${bo} alone`]);
  });

  it('contentTtlSeconds in the scenario expires content and files early (a contract value wins)', async () => {
    const { sim, step } = await start({ contentTtlSeconds: 3600 });
    const relayTask = await taskId(generate(sim, 'tide'));
    const officialVideo = (await call(sim, 'POST', '/v1/videos', { body: { prompt: 'tide' } })).json.id as string;
    step(10_000);
    const fileUrl = (await task(sim, relayTask)).json.video_url as string;
    sim.setScenario({ contentTtlSeconds: 60, contracts: { 'relay-v1': { contentTtlSeconds: 120 } } });
    expect((await video(sim, officialVideo)).json).toMatchObject({
      completed_at: (T0 + 10_000) / 1000,
      expires_at: (T0 + 70_000) / 1000,
    });
    const content = () =>
      fetch(`${sim.url}/v1/videos/${officialVideo}/content`, {
        headers: { authorization: `Bearer ${SIM_TEST_KEYS.official}` },
      });
    expect((await content()).status).toBe(200);
    step(60_000);
    const expired = await content();
    expect([expired.status, ((await expired.json()) as { error: { code: string } }).error.code]).toEqual([
      404,
      'content_expired',
    ]);
    expect((await fetch(fileUrl)).status).toBe(200);
    step(60_000);
    const gone = await fetch(fileUrl);
    expect([gone.status, ((await gone.json()) as { error: { code: string } }).error.code]).toEqual([
      404,
      'file_expired',
    ]);
  });
});

describe('idempotency and the ledger', () => {
  it('ignoreIdempotencyKeys: a repeated key creates and bills a new job', async () => {
    const { sim } = await start({ scenario: { contracts: { 'relay-v1': { ignoreIdempotencyKeys: true } } } });
    const key = { 'Idempotency-Key': 'take-7' };
    const first = await taskId(generate(sim, 'take seven', key));
    const second = await taskId(generate(sim, 'take seven', key));
    expect(second).not.toBe(first);
    expect(sim.ledger().map((e) => [e.jobId, e.idempotencyKey, e.billedUsd])).toEqual([
      [first, 'take-7', 0.12],
      [second, 'take-7', 0.12],
    ]);
    const official = { 'Idempotency-Key': 'take-7' }; // the official contract still honours keys
    const a = (await call(sim, 'POST', '/v1/videos', { body: { prompt: 'x' }, headers: official })).json.id;
    expect((await call(sim, 'POST', '/v1/videos', { body: { prompt: 'x' }, headers: official })).json.id).toBe(a);
    expect(sim.ledger()).toHaveLength(3);
  });

  it('proves exactly one billed job per completed take through a drill of lost answers and 5xx', async () => {
    const { sim, step } = await start({
      scenario: {
        contracts: {
          'relay-v1': {
            serverErrors: { status: 502, burst: 1 },
            endpoints: { generate: { reset: { every: 2, afterHandling: true } } },
          },
        },
      },
    });
    // A client that retries each take with its own key until it gets an answer.
    for (const take of ['t1', 't2', 't3']) {
      for (let attempt = 0; ; attempt++) {
        const reply = await generate(sim, `take ${take}`, { 'Idempotency-Key': take }).catch(() => undefined);
        if (reply?.status === 200) break;
        if (attempt > 5) throw new Error(`take ${take} never accepted`);
      }
    }
    step(10_000);
    const entries = sim.ledger();
    const billed = entries.filter((e) => e.billedUsd > 0 && e.finalStatus === 'completed');
    expect(billed.map((e) => e.idempotencyKey).sort()).toEqual(['t1', 't2', 't3']);
    expect(entries).toHaveLength(3);
    expect(sim.calls().byEndpoint['relay-v1'].generate).toBe(7); // 502, then per take: answer lost, replayed
  });
});
