/**
 * Provider webhooks through the gateway, with real parts: the dev server, a real worker, the
 * simulator (as the signing upstream) and the gateway over HTTP.
 *  - A verified `video.completed` signals exactly the scene waiting on that job; forged, stale,
 *    future, tampered, malformed, replayed or foreign webhooks are refused (or acknowledged and
 *    ignored) and nothing is signalled or started.
 *  - End to end: the simulator's own webhook makes a scene notice its finished job long before
 *    its next poll would have; the notice time is measured against a run with webhooks off.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import pino from 'pino';
import { profilesOf } from '../activities/providers/registry';
import { startGateway, type RunningGateway } from '../client/gateway/server';
import { startSeries } from '../client/series/series-client';
import { SIMULATOR_KEYS, startDevStack } from '../client/stack/dev-stack';
import { signWebhook } from '../simulator/server';
import { sceneStatusQuery } from '../workflows/messages';
import type { SeriesResult } from '../workflows/types';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { recordMeasurement } from './helpers/measurements';
import { seriesInput } from './helpers/specs';
import { officialWebhookVerifier } from '../client/gateway/webhook-verifiers';

const SECRET = `whsec_${Buffer.from('webhook-suite-signing-key-0123456789').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('somebody-elses-signing-key-000000').toString('base64')}`;
/** Poll interval of the worker: under the awaitJob heartbeat timeout (10 s), and long enough that a webhook visibly wins. */
const POLL_MS = 8_000;

describe('webhooks through the gateway', () => {
  let h: Harness;
  let gw: RunningGateway;
  const logLines: string[] = [];
  const sentSignatures: string[] = [];

  beforeAll(async () => {
    h = await startHarness({
      providers: relayAndOfficial,
      simulator: { jobSeconds: 4, jitter: 0 },
      pollIntervalMs: POLL_MS,
    });
    gw = await startGateway({
      client: h.client,
      taskQueue: h.taskQueue,
      logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
      profiles: profilesOf(relayAndOfficial(h.sim)),
      webhooks: { official: officialWebhookVerifier(SECRET) },
      lookupDelaysMs: [100, 200],
    });
  });
  afterAll(async () => {
    await gw?.close();
    await h?.stop();
  });
  beforeEach(() => {
    h.sim.setScenario({});
    h.sim.setWebhook(undefined);
  });

  let events = 0;
  const event = (type: string, videoId: unknown, id = `evt_test_${Date.now()}_${++events}`) =>
    JSON.stringify({ id, object: 'event', created_at: Math.floor(Date.now() / 1000), type, data: { id: videoId } });

  /** POSTs a webhook signed as an upstream would (the simulator's signer, itself checked against the openai SDK). */
  async function deliver(
    body: string,
    opts: {
      provider?: string;
      secret?: string;
      timestamp?: number;
      webhookId?: string;
      signedBody?: string;
      headers?: Record<string, string | undefined>;
    } = {},
  ) {
    const webhookId = opts.webhookId ?? (JSON.parse(body) as { id?: string }).id ?? `evt_raw_${++events}`;
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = signWebhook(opts.secret ?? SECRET, webhookId, timestamp, opts.signedBody ?? body);
    sentSignatures.push(signature.slice(3));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries({
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
      ...opts.headers,
    })) {
      if (v !== undefined) headers[k] = v;
    }
    const response = await fetch(`${gw.url}/webhooks/${opts.provider ?? 'official'}`, {
      method: 'POST',
      headers,
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers };
  }
  const replay = async (headers: Record<string, string>, body: string) => {
    const response = await fetch(`${gw.url}/webhooks/official`, { method: 'POST', headers, body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  const sceneId = (seriesId: string) => `${seriesId}/scene-1`;
  async function waitingJob(seriesId: string): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const view = await h.client.workflow
        .getHandle(sceneId(seriesId))
        .query(sceneStatusQuery)
        .catch(() => undefined);
      if (view?.phase === 'generating' && view.jobId) return view.jobId;
      if (Date.now() > deadline)
        throw new Error(`scene of ${seriesId} never started generating: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  /** A history event's time in ms since the epoch. */
  const eventMs = (e: temporal.api.history.v1.IHistoryEvent) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  async function history(workflowId: string) {
    return (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  }
  async function jobFinishedSignals(workflowId: string) {
    return (await history(workflowId))
      .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobFinished')
      .map((e) => ({
        at: eventMs(e),
        notice: defaultPayloadConverter.fromPayload(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]),
      }));
  }
  /**
   * When the scene knew the job had ended: it moved on to storing the asset (after a webhook), or
   * the check that found the job done started (polling: that attempt stores it too).
   */
  async function storeScheduledAt(workflowId: string): Promise<number> {
    const events = await history(workflowId);
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'storeAsset');
    if (scheduled) return eventMs(scheduled);
    const collect = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'collectJob');
    const started = events.find(
      (e) =>
        e.activityTaskStartedEventAttributes &&
        String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(collect?.eventId) &&
        events.some(
          (c) => String(c.activityTaskCompletedEventAttributes?.scheduledEventId) === String(collect?.eventId),
        ),
    );
    if (!started) throw new Error(`${workflowId} never stored an asset`);
    return eventMs(started);
  }
  const sceneClosedAt = async (workflowId: string) =>
    (await h.client.workflow.getHandle(workflowId).describe()).closeTime!.getTime();
  // The episode a series cuts as it ends is its own doing, not a webhook's.
  const workflowsOnQueue = async () =>
    (await h.client.workflow.count(`TaskQueue = '${h.taskQueue}' AND WorkflowType != 'episodeWorkflow'`)).count;
  async function officialJobEnded(jobId: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = await fetch(`${h.sim.officialBaseUrl}/videos/${jobId}`, {
        headers: { authorization: `Bearer ${SIMULATOR_KEYS.SORA_OFFICIAL_KEY}` },
      });
      const status = ((await response.json()) as { status: string }).status;
      if (status === 'completed' || status === 'failed') return;
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const officialSeries = (prompt = '@character runs along the harbor wall') =>
    seriesInput(h.sim.url, { providers: ['official'], defaults: { seconds: 4 }, scenes: [{ prompt }] }, 1);

  test('only a verified video.completed signals the waiting scene, once; refused webhooks signal and start nothing', async () => {
    const { workflowId } = await startSeries(h.client, officialSeries(), { taskQueue: h.taskQueue });
    const jobId = await waitingJob(workflowId);
    const before = await workflowsOnQueue();
    const good = event('video.completed', jobId);

    const refusals: Array<[string, Awaited<ReturnType<typeof deliver>>, number, RegExp]> = [
      [
        'signed with another secret',
        await deliver(good, { secret: OTHER_SECRET }),
        401,
        /webhook-signature does not match/,
      ],
      [
        'stale (301 s old)',
        await deliver(good, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
        401,
        /s old; at most 300 s/,
      ],
      [
        'from the future (301 s ahead)',
        await deliver(good, { timestamp: Math.floor(Date.now() / 1000) + 301 }),
        401,
        /in the future; at most 300 s/,
      ],
      [
        'body changed after signing',
        await deliver(good, { signedBody: event('video.completed', 'video_other') }),
        401,
        /does not match/,
      ],
      [
        'no signature header',
        await deliver(good, { headers: { 'webhook-signature': undefined } }),
        400,
        /missing header webhook-signature/,
      ],
      [
        'garbled timestamp',
        await deliver(good, { headers: { 'webhook-timestamp': 'yesterday' } }),
        400,
        /webhook-timestamp: must be unix seconds/,
      ],
      [
        'signed, but not JSON',
        await deliver('video.completed ' + jobId, { webhookId: 'evt_notjson' }),
        400,
        /not JSON/,
      ],
      [
        'signed, but no job id',
        await deliver(JSON.stringify({ id: 'evt_noid', object: 'event', type: 'video.completed', data: {} })),
        400,
        /the webhook body is not an event/,
      ],
      [
        'signed, a job id made to break the query',
        await deliver(event('video.completed', `${jobId}' OR WorkflowId != '`)),
        400,
        /data\.id: must be the job id/,
      ],
      ['not JSON content', await deliver(good, { headers: { 'content-type': 'text/plain' } }), 415, /send JSON/],
      [
        'a provider without webhooks',
        await deliver(good, { provider: 'relay' }),
        404,
        /no webhooks for provider "relay"/,
      ],
      ['an unknown provider', await deliver(good, { provider: 'nowhere' }), 404, /no webhooks for provider "nowhere"/],
      [
        'too large',
        await deliver(
          JSON.stringify({ id: 'evt_big', type: 'video.completed', data: { id: jobId }, pad: 'x'.repeat(70_000) }),
        ),
        413,
        /larger than 65536 bytes/,
      ],
    ];
    for (const [what, reply, status, message] of refusals) {
      expect({ what, status: reply.status, message: (reply.json.error as { message: string }).message }).toEqual({
        what,
        status,
        message: expect.stringMatching(message),
      });
    }
    const otherType = await deliver(event('video.created', jobId));
    expect({ status: otherType.status, json: otherType.json }).toEqual({ status: 200, json: { status: 'ignored' } });

    expect(await jobFinishedSignals(sceneId(workflowId))).toEqual([]);
    expect(await workflowsOnQueue()).toBe(before);
    expect((await h.client.workflow.getHandle(sceneId(workflowId)).query(sceneStatusQuery)).phase).toBe('generating');

    await officialJobEnded(jobId);
    const accepted = await deliver(good);
    expect({ status: accepted.status, json: accepted.json }).toEqual({
      status: 202,
      json: { status: 'signalled', scenes: [sceneId(workflowId)] },
    });
    const replayed = await replay(accepted.headers, good);
    expect(replayed).toEqual({ status: 200, json: { status: 'duplicate' } });

    const result = (await h.client.workflow.getHandle(workflowId).result()) as SeriesResult;
    expect(result.scenes[0]).toMatchObject({ status: 'completed', provider: 'official' });
    expect((await jobFinishedSignals(sceneId(workflowId))).map((s) => s.notice)).toEqual([
      { provider: 'official', jobId, event: 'completed' },
    ]);
    expect(await workflowsOnQueue()).toBe(before);

    // A verified event for a job no scene waits on: acknowledged (polling is the safety net), nothing done.
    const stranger = await deliver(event('video.completed', 'video_nobody_waits_on_this'));
    expect({ status: stranger.status, json: stranger.json }).toEqual({
      status: 202,
      json: { status: 'no_waiting_scene' },
    });
    expect(await workflowsOnQueue()).toBe(before);

    const logs = logLines.join('\n');
    expect(logs).toContain('webhook refused');
    expect(logs).toContain('webhook: scene told the job ended');
    for (const secret of [
      SECRET,
      SECRET.slice('whsec_'.length),
      OTHER_SECRET.slice('whsec_'.length),
      ...sentSignatures,
    ])
      expect(logs).not.toContain(secret);
  });

  /** Runs a one-scene official series to its end; times from the job's end to the scene's store step. */
  async function noticeTime(
    input = officialSeries(),
  ): Promise<{ ms: number; result: SeriesResult; jobId: string; finishedAtMs: number }> {
    const { workflowId } = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    const jobId = await waitingJob(workflowId);
    const result = (await h.client.workflow.getHandle(workflowId).result()) as SeriesResult;
    const entry = h.sim.ledger().find((e) => e.jobId === jobId)!;
    const seconds = h.sim.scenario().jobSeconds ?? 4;
    const finishedAtMs = Date.parse(entry.at) + seconds * 1000 * (entry.errorCode ? 0.5 : 1);
    // A failed job has nothing to store: its notice is the jobFinished signal, or (polling) the end of the scene.
    const noticedAt = entry.errorCode
      ? ((await jobFinishedSignals(sceneId(workflowId)))[0]?.at ?? (await sceneClosedAt(sceneId(workflowId))))
      : await storeScheduledAt(sceneId(workflowId));
    const ms = noticedAt - finishedAtMs;
    return { ms, result, jobId, finishedAtMs };
  }

  test('end to end: the simulator webhook makes a 10 s job noticed at once, where polling every 8 s notices it seconds later', async () => {
    h.sim.setScenario({ jobSeconds: 10 });
    h.sim.setWebhook({ url: `${gw.url}/webhooks/official`, secret: SECRET });
    const withWebhook = await noticeTime();
    expect(withWebhook.result.status).toBe('completed');
    const delivery = h.sim.webhookDeliveries().find((d) => d.videoId === withWebhook.jobId)!;
    expect(delivery).toMatchObject({ type: 'video.completed', status: 'delivered', attempts: 1 });
    expect(Math.abs(delivery.finishedAtMs - withWebhook.finishedAtMs)).toBeLessThan(5);

    h.sim.setWebhook(undefined);
    const pollingOnly = await noticeTime();
    expect(pollingOnly.result.status).toBe('completed');

    console.log(
      `job end noticed by the scene: ${(withWebhook.ms / 1000).toFixed(2)} s after it ended with the webhook, ${(pollingOnly.ms / 1000).toFixed(2)} s by polling alone (every ${POLL_MS / 1000} s, 10 s job)`,
    );
    recordMeasurement('webhook notice after job end', Math.round(withWebhook.ms), 'ms');
    recordMeasurement('polling notice after job end (8 s poll)', Math.round(pollingOnly.ms), 'ms');
    expect(withWebhook.ms).toBeGreaterThanOrEqual(0);
    expect(withWebhook.ms).toBeLessThan(2_000);
    expect(pollingOnly.ms).toBeGreaterThan(withWebhook.ms + 2_000);
  });

  test('end to end: video.failed ends the wait too; the scene reads the job once and reports the rejection', async () => {
    h.sim.setScenario({
      jobSeconds: 6,
      contracts: { official: { failJobs: { code: 'moderation_blocked', matchWord: 'duel' } } },
    });
    h.sim.setWebhook({ url: `${gw.url}/webhooks/official`, secret: SECRET });
    const failed = await noticeTime(officialSeries('@character fights a duel on the pier'));
    expect(failed.result.scenes[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/moderation_blocked/),
    });
    expect(h.sim.webhookDeliveries().find((d) => d.videoId === failed.jobId)).toMatchObject({
      type: 'video.failed',
      status: 'delivered',
    });
    console.log(
      `job failure noticed by the scene ${(failed.ms / 1000).toFixed(2)} s after it failed (next poll was ${POLL_MS / 1000} s away)`,
    );
    expect(failed.ms).toBeLessThan(2_000);
  });
});

describe('the dev stack', () => {
  test('serves the gateway and has the simulator send it webhooks signed with a secret made for the run', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sora-series-devstack-'));
    const pollMs = process.env.SORA_SERIES_POLL_MS;
    process.env.SORA_SERIES_POLL_MS = String(POLL_MS); // so the webhook, not a poll, ends the wait
    const stack = await startDevStack({
      dataDir,
      ui: false,
      simulatorPort: 0,
      gatewayPort: 0,
      jobSeconds: 3,
      logger: pino({ level: 'silent' }),
    });
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      expect(stack.gateway).toBeDefined();
      const gatewayUrl = stack.gateway!.url;
      const admin = (await (await fetch(`${stack.simulator.url}/admin/webhooks`)).json()) as { url: string };
      expect(admin.url).toBe(`${gatewayUrl}/webhooks/official`);

      const name = `devstack-${Date.now()}`;
      const spec = {
        name,
        character: {
          name: 'Mira',
          description: 'a red-haired courier in a yellow raincoat',
          clip: `${stack.simulator.url}/clips/mira.mp4`,
        },
        providers: ['official'],
        defaults: { seconds: 4 },
        scenes: [{ prompt: '@character climbs the lighthouse stairs' }],
      };
      const started = await fetch(`${gatewayUrl}/series`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ spec }),
      });
      expect(started.status).toBe(201);
      const client = new Client({ connection });
      const result = (await client.workflow.getHandle(`series/${name}`).result()) as SeriesResult;
      expect(result.scenes[0]).toMatchObject({ status: 'completed', provider: 'official' });
      const [delivery] = stack.simulator.webhookDeliveries();
      expect(delivery).toMatchObject({
        type: 'video.completed',
        videoId: result.scenes[0].takes[0].jobId,
        status: 'delivered',
        lastResult: 202,
      });
      const signals = ((await client.workflow.getHandle(`series/${name}/scene-1`).fetchHistory()).events ?? []).filter(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobFinished',
      );
      expect(signals).toHaveLength(1);
    } finally {
      await connection.close();
      await stack.stop();
      if (pollMs === undefined) delete process.env.SORA_SERIES_POLL_MS;
      else process.env.SORA_SERIES_POLL_MS = pollMs;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
