import { WorkflowFailedError } from '@temporalio/client';
import {
  addScenes,
  appendScenes,
  cancelSeries,
  endOfScenes,
  MessageRefusedError,
  pauseSeries,
  raiseBudget,
  resumeSeries,
  retryScene,
  reviewTake,
  setRouting,
} from '../client/series/steering';
import { SeriesAlreadyRunningError, startSeries } from '../client/series/series-client';
import { seriesStatusQuery, type SeriesStatusView } from '../workflows/messages';
import { SeriesStatusKey } from '../workflows/search-attributes';
import type { SeriesInput, SeriesResult } from '../workflows/types';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { expectPaidOncePerTake } from './helpers/payments';
import { seriesInput } from './helpers/specs';
import { profilesOf } from '../activities/providers/registry';

/** Every steering message against a real worker and the simulator: accepted, refused by its validator, and its effect. */
describe('steering a running series', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1 } });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => h.sim.setScenario({}));

  const start = async (input: SeriesInput) =>
    (await startSeries(h.client, input, { taskQueue: h.taskQueue })).workflowId;
  const status = (id: string) => h.client.workflow.getHandle(id).query(seriesStatusQuery);
  const result = (id: string) => h.client.workflow.getHandle(id).result() as Promise<SeriesResult>;
  async function until(
    id: string,
    what: string,
    check: (view: SeriesStatusView) => boolean,
    timeoutMs = 30_000,
  ): Promise<SeriesStatusView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await status(id).catch(() => undefined);
      if (view && check(view)) return view;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const searchStatus = async (id: string) =>
    (await h.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(SeriesStatusKey);
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the message to be refused');
      },
      (err: Error) => {
        expect(err).toBeInstanceOf(MessageRefusedError);
        return err.message;
      },
    );
  const submits = (id: string) => h.sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`${id}/`)).length;

  test('a finished series is not run again under its id (that would pay for every scene twice)', async () => {
    const input = seriesInput(h.sim.url, {}, 1);
    const id = await start(input);
    await result(id);
    await expect(start(input)).rejects.toBeInstanceOf(SeriesAlreadyRunningError);
    expect(submits(id)).toBe(1);
  });

  test('pause holds new scenes (status, search attribute), resume lets them run', async () => {
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1 }, 3));
    await until(id, 'scene 1 running', (v) => v.running.length === 1);
    await pauseSeries(h.client, id, 'checking the first cut');
    const paused = await until(id, 'paused', (v) => v.status === 'paused');
    expect(paused.paused).toMatchObject({ by: 'user', reason: 'checking the first cut' });
    await until(id, 'scene 1 done', (v) => v.scenesDone === 1);
    await new Promise((r) => setTimeout(r, 1500));
    const held = await status(id);
    expect(held.running).toEqual([]);
    expect(held.scenesDone).toBe(1);
    expect(held.queued).toEqual([2, 3]);
    expect(await searchStatus(id)).toBe('paused');
    await resumeSeries(h.client, id);
    const done = await result(id);
    expect(done.status).toBe('completed');
    expect(done.scenes).toHaveLength(3);
  });

  test('cancel: nothing new is submitted, the running job finishes, is stored and paid once', async () => {
    const input = seriesInput(h.sim.url, { maxParallel: 2 }, 6);
    const id = await start(input);
    await until(id, 'two scenes running', (v) => v.running.length === 2);
    await cancelSeries(h.client, id, 'wrong character');
    const done = await result(id);
    expect(done.status).toBe('cancelled');
    expect(done.scenes.length).toBe(2);
    expect(done.scenes.every((s) => s.status === 'completed' && s.assetPath)).toBe(true);
    expect(submits(id)).toBe(2);
    expectPaidOncePerTake(h.sim.ledger(), done, id);
    expect(await searchStatus(id)).toBe('cancelled');
    await expect(addScenes(h.client, id, [{ prompt: 'x' }])).rejects.toThrow(); // closed: nothing more is accepted
  });

  test('cancelling the workflow through Temporal is the same graceful cancel, and it ends Cancelled', async () => {
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1 }, 4));
    await until(id, 'scene 1 running', (v) => v.running.length === 1);
    await h.client.workflow.getHandle(id).cancel();
    const err = await result(id).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(submits(id)).toBe(1);
    expect(await searchStatus(id)).toBe('cancelled');
    const paid = h.sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`${id}/`));
    expect(paid).toHaveLength(1);
  });

  test('addScenes: valid scenes get the next indexes; invalid ones are refused naming the field, before anything is spent', async () => {
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1 }, 2));
    const refusals = [
      await refusal(addScenes(h.client, id, [])),
      await refusal(addScenes(h.client, id, [{ prompt: '' }])),
      await refusal(addScenes(h.client, id, [{ prompt: '@character and @bob meet' }])),
      await refusal(addScenes(h.client, id, [{ prompt: 'ok', size: '640x480' }])),
      await refusal(addScenes(h.client, id, [{ prompt: 'ok', seconds: 99 }])),
      await refusal(addScenes(h.client, id, [{ prompt: 'ok', provider: 'nowhere' }])),
      await refusal(addScenes(h.client, id, [{ prompt: 'ok', colour: 'red' } as never])),
    ];
    expect(refusals[0]).toMatch(/scenes: give a non-empty list/);
    expect(refusals[1]).toMatch(/scenes\[0\]\.prompt: must not be empty/);
    expect(refusals[2]).toMatch(/scenes\[0\]\.prompt: mentions @bob/);
    expect(refusals[3]).toMatch(/scenes\[0\]\.size: must be one of/);
    expect(refusals[4]).toMatch(/scenes\[0\]\.seconds: must be at most 20 seconds, got 99; split a longer scene/);
    expect(refusals[5]).toMatch(/scenes\[0\]\.provider: "nowhere" is not one of the series' providers/);
    expect(refusals[6]).toMatch(/scenes\[0\]\.colour: unknown field/);

    expect(
      await addScenes(h.client, id, [
        { prompt: '@character waves goodbye' },
        { prompt: '@character bows', seconds: 5 },
      ]),
    ).toEqual({ indexes: [3, 4] });
    const done = await result(id);
    expect(done.scenes.map((s) => [s.index, s.status])).toEqual([1, 2, 3, 4].map((i) => [i, 'completed']));
    // Nothing refused reached an upstream.
    const prompts = h.sim
      .ledger()
      .filter((e) => e.idempotencyKey?.startsWith(`${id}/`))
      .map((e) => e.prompt);
    expect(prompts).toHaveLength(4);
    expect(prompts.filter((p) => p.includes('@bob') || p.endsWith(' ok') || p.endsWith(': ok'))).toEqual([]);
  });

  test('appendScenes by signal-with-start: starts a streaming series that waits for more until endOfScenes', async () => {
    const input = seriesInput(h.sim.url, { streaming: true, scenes: [] }, 0);
    const profiles = profilesOf(relayAndOfficial(h.sim));
    const first = await appendScenes(h.client, {
      input,
      scenes: [{ prompt: '@character arrives' }],
      taskQueue: h.taskQueue,
      profiles,
    });
    await until(first.workflowId, 'scene 1 done', (v) => v.scenesDone === 1);
    const view = await until(first.workflowId, 'waiting for more', (v) => v.running.length === 0);
    expect(view.status).toBe('running'); // streaming: waits for more scenes
    const second = await appendScenes(h.client, {
      input,
      scenes: [{ prompt: '@character leaves' }],
      taskQueue: h.taskQueue,
      profiles,
    });
    expect(second.workflowId).toBe(first.workflowId);
    expect(second.runId).toBe(first.runId); // signalled the running series, did not start another
    // A raw signal with a bad scene (another service, no client-side check): refused in status, the rest appended.
    await h.client.workflow
      .getHandle(first.workflowId)
      .signal('appendScenes', [{ prompt: '@character and @zed' }, { prompt: '@character waves' }]);
    await until(first.workflowId, 'three scenes done', (v) => v.scenesDone === 3);
    expect((await status(first.workflowId)).refusedScenes).toEqual([
      { prompt: '@character and @zed', problem: expect.stringMatching(/prompt: mentions @zed/) },
    ]);
    await expect(
      appendScenes(h.client, { input, scenes: [{ prompt: '' }], taskQueue: h.taskQueue, profiles }),
    ).rejects.toThrow(/scenes\[0\]\.prompt: must not be empty/);
    await endOfScenes(h.client, first.workflowId);
    const done = await result(first.workflowId);
    expect(done.status).toBe('completed');
    expect(done.scenes.map((s) => s.index)).toEqual([1, 2, 3]);
  });

  test('approval required: the series waits for reviews; a rejected take gets a retake with a new prompt; approved takes complete it', async () => {
    const id = await start(seriesInput(h.sim.url, { approval: 'required' }, 2));
    const waiting = await until(id, 'awaiting approval', (v) => v.status === 'awaiting_approval');
    expect(waiting.awaitingReview).toEqual([1, 2]);
    expect(await searchStatus(id)).toBe('awaiting_approval');

    expect(await refusal(reviewTake(h.client, id, { index: 9, take: 1, verdict: 'approve' }))).toMatch(
      /index: scene 9 has no finished take/,
    );
    expect(await refusal(reviewTake(h.client, id, { index: 1, take: 7, verdict: 'approve' }))).toMatch(
      /take: scene 1 has takes 1/,
    );
    expect(await refusal(reviewTake(h.client, id, { index: 1, take: 1, verdict: 'maybe' as never }))).toMatch(
      /verdict: must be "approve" or "reject"/,
    );
    expect(await refusal(retryScene(h.client, id, { index: 1, prompt: '@character and @bob' }))).toMatch(
      /prompt: mentions @bob/,
    );
    expect(await refusal(retryScene(h.client, id, { index: 1, provider: 'nowhere' }))).toMatch(/provider: "nowhere"/);
    expect(await refusal(retryScene(h.client, id, { index: 42 }))).toMatch(/index: no scene 42/);

    await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'approve' });
    await reviewTake(h.client, id, { index: 2, take: 1, verdict: 'reject', note: 'wrong coat' });
    expect(
      await retryScene(h.client, id, {
        index: 2,
        prompt: '@character in a yellow raincoat, by the sea',
        provider: 'official',
      }),
    ).toEqual({ index: 2, queued: true });
    const retaken = await until(
      id,
      'retake done',
      (v) => v.scenes.find((s) => s.index === 2)!.takes.length === 2 && v.running.length === 0,
    );
    const scene2 = retaken.scenes.find((s) => s.index === 2)!;
    expect(scene2.takes.map((t) => [t.take, t.provider, t.outcome, t.review?.verdict])).toEqual([
      [1, 'relay', 'completed', 'reject'],
      [2, 'official', 'completed', undefined],
    ]);
    expect(scene2.provider).toBe('official');
    expect(scene2.assetPath).toBe(scene2.takes[1].assetPath);
    expect(retaken.awaitingReview).toEqual([2]);
    const retakeJob = h.sim.ledger().find((e) => e.jobId === scene2.takes[1].jobId)!;
    expect(retakeJob.prompt).toContain('yellow raincoat');
    expect(retakeJob.idempotencyKey).toBe(`${id}/scene-2/take-2`);

    await reviewTake(h.client, id, { index: 2, take: 2, verdict: 'approve' });
    const done = await result(id);
    expect(done.status).toBe('completed');
    expect(done.scenes[1].takes).toHaveLength(2);
    expectPaidOncePerTake(h.sim.ledger(), done, id);
  });

  test('setRouting changes the policy of scenes not yet started; an unknown policy is refused', async () => {
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1, routing: 'character' }, 3));
    expect(await refusal(setRouting(h.client, id, 'fastest' as never))).toMatch(
      /routing: must be one of character, cost, stability/,
    );
    await until(id, 'scene 1 running', (v) => v.running.includes(1));
    // Running is not yet routed for good: a scene waiting for its character routes again after it.
    for (let i = 0; !h.sim.ledger().some((e) => e.idempotencyKey?.startsWith(`${id}/scene-1/`)); i++) {
      if (i > 300) throw new Error('scene 1 was never submitted');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await setRouting(h.client, id, 'stability')).toEqual({ routing: 'stability', previous: 'character' });
    const done = await result(id);
    expect(done.scenes[0].provider).toBe('relay');
    expect(done.scenes.slice(1).map((s) => s.provider)).toEqual(['official', 'official']);
  });

  test('budget: the series pauses before a submission would exceed it, says so, and goes on when raised', async () => {
    // relay: $0.12 a video. $0.30 pays for two scenes; the third waits.
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1, budgetUsd: 0.3 }, 3));
    const paused = await until(id, 'paused by budget', (v) => v.status === 'paused');
    expect(paused.scenesDone).toBe(2);
    expect(paused.paused).toMatchObject({
      by: 'budget',
      reason: expect.stringMatching(/^budget: scene 3 needs \$0\.12 but \$0\.06 of \$0\.30 remains; raise the budget/),
    });
    expect(paused.budget).toEqual({ budgetUsd: 0.3, spentUsd: 0.24, reservedUsd: 0, remainingUsd: 0.06 });
    expect(await searchStatus(id)).toBe('paused');
    expect(submits(id)).toBe(2);

    expect(await refusal(raiseBudget(h.client, id, 0.2))).toMatch(
      /budgetUsd: must be more than the current budget \$0.3/,
    );
    expect(await refusal(raiseBudget(h.client, id, -1))).toMatch(/budgetUsd: must be a number of USD above 0/);
    expect(await raiseBudget(h.client, id, 0.5)).toMatchObject({ budgetUsd: 0.5, spentUsd: 0.24 });
    const done = await result(id);
    expect(done.status).toBe('completed');
    expect(done.costUsd).toBeCloseTo(0.36, 6);
    expect(await searchStatus(id)).toBe('completed');
  });

  test('budget: a fallback to a dearer provider is checked too (relay refuses, official would overspend)', async () => {
    h.sim.setScenario({ contracts: { 'relay-v1': { endpoints: { generate: { down: { status: 403 } } } } } });
    // official: $0.10/s; a 4 s scene is $0.40, over a $0.30 budget (the relay's $0.12 fitted).
    const id = await start(seriesInput(h.sim.url, { budgetUsd: 0.3, defaults: { seconds: 4 } }, 1));
    const paused = await until(id, 'paused by budget', (v) => v.status === 'paused');
    expect(paused.paused?.reason).toMatch(/^budget: scene 1 \(take on official\) needs \$0\.40/);
    expect(
      h.sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`${id}/`) && e.contract === 'official'),
    ).toHaveLength(0);
    await raiseBudget(h.client, id, 1);
    const done = await result(id);
    expect(done.scenes[0]).toMatchObject({ status: 'completed', provider: 'official' });
    expect(done.costUsd).toBeCloseTo(0.4, 6);
  });
});
