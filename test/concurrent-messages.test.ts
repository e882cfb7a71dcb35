import pino from 'pino';
import { profilesOf } from '../activities/providers/registry';
import { startGateway, type RunningGateway } from '../client/gateway/server';
import { startSeries } from '../client/series/series-client';
import {
  addScenes,
  cancelSeries,
  endOfScenes,
  MessageRefusedError,
  pauseSeries,
  raiseBudget,
  resumeSeries,
  retryScene,
  reviewTake,
} from '../client/series/steering';
import { sceneStatusQuery, seriesStatusQuery, type SeriesStatusView } from '../workflows/messages';
import type { SeriesInput, SeriesResult } from '../workflows/types';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { seriesInput } from './helpers/specs';
import { DEMO_TASK_ID } from '../simulator/server';

/**
 * Two steering messages sent at the same moment (both in flight before either is answered), against
 * a real worker and the simulator: the series takes them one after the other, refuses the one that
 * no longer fits with a clear message, never fails a workflow task, and still completes.
 */
describe('concurrent steering messages', () => {
  let h: Harness;
  let gw: RunningGateway;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1 } });
    gw = await startGateway({
      client: h.client,
      taskQueue: h.taskQueue,
      logger: pino({ level: 'silent' }),
      profiles: profilesOf(relayAndOfficial(h.sim)),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await h?.stop();
  });
  beforeEach(() => h.sim.setScenario({}));

  const start = async (input: SeriesInput) =>
    (await startSeries(h.client, input, { taskQueue: h.taskQueue })).workflowId;
  const status = (id: string) => h.client.workflow.getHandle(id).query(seriesStatusQuery);
  const result = (id: string) => h.client.workflow.getHandle(id).result() as Promise<SeriesResult>;
  async function until(id: string, what: string, check: (view: SeriesStatusView) => boolean, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await status(id).catch(() => undefined);
      if (view && check(view)) return view;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const submits = (id: string, index: number) =>
    h.sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`${id}/scene-${index}/`)).length;

  type Outcome<T> = { accepted: T } | { refused: string; type?: string };
  /** A message's answer: what the series returned, or its refusal's words and type (anything else fails the test). */
  const outcome = <T>(sent: Promise<T>): Promise<Outcome<T>> =>
    sent.then(
      (accepted) => ({ accepted }),
      (err: Error) => {
        if (!(err instanceof MessageRefusedError)) throw err;
        return { refused: err.message, type: err.refusal };
      },
    );

  /** The series' workflow task failures, as `WorkflowTaskFailed: <cause>` lines (none is the only good answer). */
  async function taskFailures(id: string): Promise<string[]> {
    const events = (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
    return events.flatMap((e) =>
      e.workflowTaskFailedEventAttributes
        ? [`WorkflowTaskFailed: ${e.workflowTaskFailedEventAttributes.failure?.message ?? '(no message)'}`]
        : [],
    );
  }

  async function post(path: string, body: unknown): Promise<{ status: number; message?: string }> {
    const response = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { error?: { message: string } };
    return { status: response.status, message: json.error?.message };
  }

  /**
   * Sends both messages while no worker polls and then starts one, so the series gets them in one
   * workflow task: the tightest race there is, every time (sent to a live worker they may or may not meet).
   */
  async function inOneTask<A, B>(first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
    await h.stopWorker();
    try {
      const both = Promise.all([first(), second()]);
      await new Promise((r) => setTimeout(r, 1000)); // the server holds both
      await h.startWorker();
      return await both;
    } finally {
      await h.startWorker();
    }
  }

  /** A series whose one scene has finished and waits for a review. */
  async function reviewable(): Promise<{ id: string; name: string }> {
    const input = seriesInput(h.sim.url, { approval: 'required' }, 1);
    const id = await start(input);
    await until(id, 'awaiting approval', (v) => v.status === 'awaiting_approval');
    return { id, name: input.name };
  }

  test('two retries of one finished scene over HTTP: one is queued (200), the other refused (422); the retake runs once', async () => {
    const { id, name } = await reviewable();
    const answers = await inOneTask(
      () => post(`/series/${name}/retry`, { index: 1 }),
      () => post(`/series/${name}/retry`, { index: 1 }),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 422]);
    expect(answers.find((a) => a.status === 422)!.message).toMatch(
      /^retryScene refused by .*: index: scene 1 has not finished \(running or queued\); retry it once it has a result$/,
    );
    const retaken = await until(id, 'the retake done', (v) => v.scenes[0].takes.length === 2 && !v.running.length);
    expect(retaken.awaitingReview).toEqual([1]);
    await reviewTake(h.client, id, { index: 1, take: 2, verdict: 'approve' });
    expect((await result(id)).status).toBe('completed');
    expect(submits(id, 1)).toBe(2);
    expect(await taskFailures(id)).toEqual([]);
  });

  test('two retries through the client: exactly one queued, the other refused naming the scene', async () => {
    const { id } = await reviewable();
    const answers = await inOneTask(
      () => outcome(retryScene(h.client, id, { index: 1, prompt: '@character at dawn' })),
      () => outcome(retryScene(h.client, id, { index: 1, prompt: '@character at dusk' })),
    );
    expect(answers).toContainEqual({ accepted: { index: 1, queued: true } });
    expect(answers).toContainEqual({
      refused: expect.stringMatching(/index: scene 1 has not finished/),
      type: 'SceneNotFinished',
    });
    await until(id, 'the retake done', (v) => v.scenes[0].takes.length === 2 && !v.running.length);
    await reviewTake(h.client, id, { index: 1, take: 2, verdict: 'approve' });
    expect((await result(id)).scenes[0].takes).toHaveLength(2);
    expect(await taskFailures(id)).toEqual([]);
  });

  test('retry and cancel at once: the retry is queued before the cancel or refused after it; the series ends cancelled', async () => {
    const { id } = await reviewable();
    const [retry] = await inOneTask(
      () => outcome(retryScene(h.client, id, { index: 1 })),
      () => cancelSeries(h.client, id, 'stop'),
    );
    if ('refused' in retry)
      expect(retry).toEqual({
        refused: expect.stringMatching(/the series is cancelled \(stop\)/),
        type: 'SeriesClosed',
      });
    else expect(retry.accepted).toEqual({ index: 1, queued: true });
    const done = await result(id);
    expect(done.status).toBe('cancelled');
    expect(await taskFailures(id)).toEqual([]);
  });

  test('retry and the last approval at once: an accepted retry is run before the series completes', async () => {
    const { id } = await reviewable();
    const [retry, review] = await inOneTask(
      () => outcome(retryScene(h.client, id, { index: 1 })),
      () => outcome(reviewTake(h.client, id, { index: 1, take: 1, verdict: 'approve' })),
    );
    expect(review).toEqual({ accepted: { index: 1, take: 1, verdict: 'approve' } });
    const done = await result(id);
    expect(done.status).toBe('completed');
    if ('refused' in retry) {
      expect(retry.refused).toMatch(/the series has finished its scenes/);
      expect(done.scenes[0].takes).toHaveLength(1);
    } else expect(done.scenes[0].takes).toHaveLength(2);
    expect(done.scenes[0].takes[0].review?.verdict).toBe('approve');
    expect(await taskFailures(id)).toEqual([]);
  });

  test('a review while the retake runs: both the review and the new take are kept', async () => {
    const { id } = await reviewable();
    await retryScene(h.client, id, { index: 1 });
    await until(id, 'the retake running', (v) => v.running.includes(1));
    await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'reject', note: 'too dark' });
    const retaken = await until(id, 'the retake done', (v) => !v.running.length && v.scenes[0].takes.length === 2);
    expect(retaken.scenes[0].takes.map((t) => [t.take, t.review?.verdict])).toEqual([
      [1, 'reject'],
      [2, undefined],
    ]);
    expect(retaken.awaitingReview).toEqual([1]);
    await reviewTake(h.client, id, { index: 1, take: 2, verdict: 'approve' });
    expect((await result(id)).status).toBe('completed');
    expect(await taskFailures(id)).toEqual([]);
  });

  test('addScenes and cancel at once: the scenes are added before the cancel or refused after it; none is submitted', async () => {
    const { id } = await reviewable();
    const [added] = await inOneTask(
      () => outcome(addScenes(h.client, id, [{ prompt: '@character waves' }])),
      () => cancelSeries(h.client, id, 'stop'),
    );
    if ('refused' in added)
      expect(added).toEqual({
        refused: expect.stringMatching(/the series is cancelled \(stop\)/),
        type: 'SeriesClosed',
      });
    else expect(added.accepted).toEqual({ indexes: [2] });
    const done = await result(id);
    expect(done.status).toBe('cancelled');
    expect(done.scenes.map((s) => s.index)).toEqual([1]);
    expect(submits(id, 2)).toBe(0);
    expect(await taskFailures(id)).toEqual([]);
  });

  test('addScenes, then cancel, while the series prepares: the scenes are refused, none gets an index that never runs', async () => {
    // The character comes from a relay task that answers slowly: the series is still preparing.
    await h.sim.setScenario({
      contracts: { 'relay-v1': { endpoints: { extractCharacter: { latencyMs: { min: 3000, max: 3000 } } } } },
    });
    const input = seriesInput(h.sim.url, {}, 1);
    input.character = { ...input.character!, source: { kind: 'extract', provider: 'relay', taskId: DEMO_TASK_ID } };
    const id = await start(input);
    const added = outcome(addScenes(h.client, id, [{ prompt: '@character waves' }]));
    await new Promise((r) => setTimeout(r, 500)); // accepted by its validator, waiting for the series to prepare
    await cancelSeries(h.client, id, 'stop');
    expect(await added).toEqual({
      refused: expect.stringMatching(/addScenes: the series is cancelled \(stop\)/),
      type: 'SeriesClosed',
    });
    const done = await result(id);
    expect(done.status).toBe('cancelled');
    expect(h.sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`${id}/`))).toEqual([]);
    expect(await taskFailures(id)).toEqual([]);
  });

  test('addScenes and endOfScenes at once on a streaming series: accepted scenes run before it completes', async () => {
    const id = await start(seriesInput(h.sim.url, { streaming: true }, 1));
    await until(id, 'scene 1 done, waiting for more', (v) => v.scenesDone === 1 && !v.running.length);
    const [added] = await inOneTask(
      () => outcome(addScenes(h.client, id, [{ prompt: '@character waves' }])),
      () => endOfScenes(h.client, id),
    );
    const done = await result(id);
    expect(done.status).toBe('completed');
    if ('refused' in added) {
      expect(added.refused).toMatch(/the series has finished its scenes/);
      expect(done.scenes.map((s) => s.index)).toEqual([1]);
    } else {
      expect(added.accepted).toEqual({ indexes: [2] });
      expect(done.scenes.map((s) => [s.index, s.status])).toEqual([
        [1, 'completed'],
        [2, 'completed'],
      ]);
    }
    expect(await taskFailures(id)).toEqual([]);
  });

  test('two addScenes at once while the series prepares: distinct indexes, and every scene runs', async () => {
    const id = await start(seriesInput(h.sim.url, {}, 1));
    const answers = await inOneTask(
      () => addScenes(h.client, id, [{ prompt: '@character waves' }]),
      () => addScenes(h.client, id, [{ prompt: '@character bows' }, { prompt: '@character sits' }]),
    );
    expect(answers.flatMap((a) => a.indexes).sort()).toEqual([2, 3, 4]);
    const done = await result(id);
    expect(done.scenes.map((s) => [s.index, s.status])).toEqual([1, 2, 3, 4].map((i) => [i, 'completed']));
    expect(await taskFailures(id)).toEqual([]);
  });

  test('raiseBudget and pause at once on a series paused by its budget: raised, and it stays paused by the user until resumed', async () => {
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1, budgetUsd: 0.3 }, 3));
    await until(id, 'paused by budget', (v) => v.paused?.by === 'budget');
    const [raised] = await inOneTask(
      () => raiseBudget(h.client, id, 0.5),
      () => pauseSeries(h.client, id, 'hold on'),
    );
    expect(raised).toMatchObject({ budgetUsd: 0.5 });
    const held = await until(id, 'paused by the user', (v) => v.paused?.by === 'user');
    expect(held.paused?.reason).toBe('hold on');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status(id)).running).toEqual([]);
    expect(submits(id, 3)).toBe(0);
    await resumeSeries(h.client, id);
    const done = await result(id);
    expect(done.status).toBe('completed');
    expect(done.scenes).toHaveLength(3);
    expect(await taskFailures(id)).toEqual([]);
  });

  test('pause while a fallback take waits for its budget: once resumed, the series says it waits for budget', async () => {
    // The relay refuses after 2 s; the official fallback ($0.40 for 4 s) does not fit a $0.30 budget.
    h.sim.setScenario({
      contracts: {
        'relay-v1': { endpoints: { generate: { latencyMs: { min: 2000, max: 2000 }, down: { status: 403 } } } },
      },
    });
    const id = await start(seriesInput(h.sim.url, { budgetUsd: 0.3, defaults: { seconds: 4 } }, 1));
    await until(id, 'scene 1 running', (v) => v.running.includes(1));
    await pauseSeries(h.client, id, 'hold on');
    const scene = h.client.workflow.getHandle(`${id}/scene-1`);
    for (let i = 0; (await scene.query(sceneStatusQuery).catch(() => undefined))?.phase !== 'waiting_for_budget'; i++) {
      if (i > 100) throw new Error('scene 1 never asked for its fallback take budget');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await status(id)).paused).toMatchObject({ by: 'user' });
    await resumeSeries(h.client, id);
    const waiting = await until(id, 'paused by budget', (v) => v.paused?.by === 'budget', 5000);
    expect(waiting.paused?.reason).toMatch(/^budget: scene 1 \(take on official\) needs \$0\.40/);
    await raiseBudget(h.client, id, 1);
    expect((await result(id)).scenes[0]).toMatchObject({ status: 'completed', provider: 'official' });
    expect(await taskFailures(id)).toEqual([]);
  });

  test('two raises to the same budget at once: one raises it, the other is refused', async () => {
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1, budgetUsd: 0.3 }, 3));
    await until(id, 'paused by budget', (v) => v.paused?.by === 'budget');
    const answers = await inOneTask(
      () => outcome(raiseBudget(h.client, id, 0.5)),
      () => outcome(raiseBudget(h.client, id, 0.5)),
    );
    expect(answers).toContainEqual({ accepted: expect.objectContaining({ budgetUsd: 0.5 }) });
    expect(answers).toContainEqual({
      refused: expect.stringMatching(/budgetUsd: must be more than the current budget \$0\.5/),
      type: 'InvalidBudget',
    });
    expect((await result(id)).status).toBe('completed');
    expect(await taskFailures(id)).toEqual([]);
  });
});
