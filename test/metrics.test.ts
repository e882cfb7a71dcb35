/**
 * Worker telemetry on a real worker process (the SDK runtime, and with it the metrics exporter,
 * is installed once per process, so not in jest's): one series through a relay that revokes the
 * character, a throttled relay, an official side with a 5xx and a rejected prompt; then the
 * Prometheus endpoint is scraped over HTTP and the worker's log lines are read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startSeries } from '../client/series/series-client';
import { freePort } from '../common/process';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { activityLogFields } from '../activities/log-context';
import { METRICS_ADDRESS_ENV, MetricsSettingsError, metricsAddress } from '../workers/telemetry';
import { METRIC } from '../workflows/metric-names';
import type { SeriesResult, TakeRecord } from '../workflows/types';
import { waitFor } from './chaos/chaos-kit';
import { temporalAddress } from './helpers/harness';
import { exited, spawnWorker } from './helpers/processes';
import { scrape, total, type Sample } from './helpers/prometheus';
import { seriesInput } from './helpers/specs';
import { relayAndOfficialFile } from './helpers/sora-pair';
import { PROVIDERS_FILE_ENV } from '../workflows/provider-rules';

describe('log fields from the workflow id and the input', () => {
  test('scene activities name series, scene and take; series and episode activities the series', () => {
    expect(
      activityLogFields('series/harbor/scene-12', {
        provider: 'relay',
        idempotencyKey: 'series/harbor/scene-12/take-3',
        prompt: 'x',
      }),
    ).toEqual({
      seriesId: 'series/harbor',
      scene: 12,
      take: 3,
      provider: 'relay',
    });
    expect(activityLogFields('series/harbor/scene-2', { provider: 'official', jobId: 'video_1', take: 4 })).toEqual({
      seriesId: 'series/harbor',
      scene: 2,
      take: 4,
      provider: 'official',
      jobId: 'video_1',
    });
    expect(
      activityLogFields('series/harbor/episode-3f0c2a9be1d47a65', { seriesId: 'series/harbor', scenes: [] }),
    ).toEqual({ seriesId: 'series/harbor' });
    expect(activityLogFields('custom-id', { url: 'http://x' })).toEqual({ seriesId: 'custom-id' });
    expect(activityLogFields(undefined, undefined)).toEqual({});
  });
});

describe('the metrics address setting', () => {
  test('unset: the fallback; off: none; port 0: a free port; anything else is refused naming the variable', async () => {
    expect(await metricsAddress({}, '127.0.0.1:9464')).toEqual({ address: '127.0.0.1:9464', explicit: false });
    expect(await metricsAddress({ [METRICS_ADDRESS_ENV]: 'off' }, '127.0.0.1:9464')).toEqual({ explicit: true });
    expect(await metricsAddress({}, undefined)).toEqual({ explicit: false });
    const picked = await metricsAddress({ [METRICS_ADDRESS_ENV]: '127.0.0.1:0' }, undefined);
    expect(picked.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    for (const bad of ['9464', 'http://127.0.0.1:9464', '127.0.0.1:99999', 'host: 1']) {
      await expect(metricsAddress({ [METRICS_ADDRESS_ENV]: bad }, undefined)).rejects.toThrow(MetricsSettingsError);
    }
    await expect(metricsAddress({ [METRICS_ADDRESS_ENV]: 'nope' }, undefined)).rejects.toThrow(METRICS_ADDRESS_ENV);
  });
});

describe('a worker process: Prometheus metrics and structured activity logs', () => {
  let sim: RunningSimulator;
  let dir: string;
  let connection: Connection;
  let worker: ReturnType<typeof spawnWorker>;
  let metricsUrl: string;
  let result: SeriesResult;
  let seriesId: string;

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 21,
      jobSeconds: 0.3,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    sim.setScenario({
      contracts: {
        // throttled once (rate_limited), then every submission naming the character is refused (unavailable)
        'relay-v1': { rateLimit: { retryAfterSeconds: 1, burst: 1 }, revokeAllCharacters: true },
        // one 503 on the first submission (transient, retried)
        official: { endpoints: { create: { serverErrors: { status: 503, burst: 1 } } } },
      },
      rejectWord: 'FORBIDDEN',
    });
    dir = await mkdtemp(join(tmpdir(), 'sora-metrics-'));
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const taskQueue = `metrics-${process.pid}-${Date.now()}`;
    worker = spawnWorker({
      ...SIMULATOR_KEYS,
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_TASK_QUEUE: taskQueue,
      SORA_SIMULATOR_URL: sim.url,
      [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(sim.url, dir),
      SORA_SERIES_DATA_DIR: join(dir, 'data'),
      SORA_SERIES_POLL_MS: '100',
      SORA_SERIES_ALLOW_PRIVATE_URLS: '1',
      [METRICS_ADDRESS_ENV]: `127.0.0.1:${port}`,
      LOG_LEVEL: 'info',
    });
    await waitFor(
      'the worker to start',
      () => (worker.output().includes('"msg":"worker started"') ? true : undefined),
      60_000,
    );
    expect(worker.output()).toContain(`"metrics":"${metricsUrl}"`);

    connection = await Connection.connect({ address: temporalAddress() });
    const client = new Client({ connection });
    const input = seriesInput(sim.url, {
      scenes: [
        { prompt: '@character runs along the harbor wall' },
        { prompt: '@character opens a FORBIDDEN door' },
        { prompt: '@character climbs the lighthouse stairs' },
      ],
    });
    const handle = await startSeries(client, input, { taskQueue });
    seriesId = handle.workflowId;
    result = (await handle.result()) as SeriesResult;
  });

  afterAll(async () => {
    worker?.kill('SIGTERM');
    if (worker) await exited(worker);
    await connection?.close();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const takes = (): TakeRecord[] => result.scenes.flatMap((s) => s.takes);
  const count = <T>(items: T[], key: (item: T) => string) =>
    items.reduce<Record<string, number>>((acc, i) => ({ ...acc, [key(i)]: (acc[key(i)] ?? 0) + 1 }), {});

  test('the series went through the faults the metrics must show', () => {
    expect(result.status).toBe('completed_with_rejections');
    expect(count(result.scenes, (s) => s.status)).toEqual({ completed: 2, rejected: 1 });
    expect(takes().some((t) => t.provider === 'relay' && t.outcome === 'unavailable')).toBe(true);
    expect(takes().some((t) => t.provider === 'official' && t.outcome === 'completed')).toBe(true);
  });

  test("Temporal's runtime metrics and the project's, with labels and values matching the series", async () => {
    // The series' last workflow task completes on the worker before the client sees the result, but give the exporter a moment.
    const samples: Sample[] = await waitFor(
      'the series completion on the endpoint',
      async () => {
        const now = await scrape(metricsUrl);
        return total(now, 'temporal_workflow_completed', { workflow_type: 'seriesWorkflow' }) >= 1 ? now : undefined;
      },
      10_000,
    );
    // Temporal's own: every scene workflow completed, every activity type ran
    expect(total(samples, 'temporal_workflow_completed', { workflow_type: 'sceneWorkflow' })).toBe(
      result.scenes.length,
    );
    for (const activity of ['storeSourceClip', 'createCharacterRef', 'submitTake', 'collectJob', 'writeManifest']) {
      expect([
        activity,
        total(samples, 'temporal_activity_execution_latency_count', { activity_type: activity }),
      ]).toEqual([activity, expect.any(Number)]);
      expect(total(samples, 'temporal_activity_execution_latency_count', { activity_type: activity })).toBeGreaterThan(
        0,
      );
    }

    // Scenes by status
    for (const [status, n] of Object.entries(count(result.scenes, (s) => s.status))) {
      expect([status, total(samples, METRIC.scenesFinished, { status })]).toEqual([status, n]);
    }
    expect(total(samples, METRIC.scenesFinished)).toBe(result.scenes.length);

    // Takes by provider and outcome
    for (const [key, n] of Object.entries(count(takes(), (t) => `${t.provider}/${t.outcome}`))) {
      const [provider, outcome] = key.split('/');
      expect([key, total(samples, METRIC.takes, { provider, outcome })]).toEqual([key, n]);
    }
    expect(total(samples, METRIC.takes)).toBe(takes().length);

    // Billed cost by provider: the histogram's sum is the money, and adds up to the series cost
    const billed = takes().filter((t) => t.costUsd > 0);
    for (const provider of ['relay', 'official']) {
      const spent = billed.filter((t) => t.provider === provider).reduce((sum, t) => sum + t.costUsd, 0);
      expect(total(samples, `${METRIC.takeCostUsd}_sum`, { provider })).toBeCloseTo(spent, 6);
    }
    expect(total(samples, `${METRIC.takeCostUsd}_sum`)).toBeCloseTo(result.costUsd, 6);
    expect(total(samples, `${METRIC.takeCostUsd}_count`)).toBe(billed.length);
    expect(result.costUsd).toBeGreaterThan(0);

    // Fallbacks: at least every scene whose takes moved from the relay to official
    const moved = result.scenes.filter((s) =>
      s.takes.some((t, i) => i > 0 && t.provider === 'official' && s.takes[i - 1].provider === 'relay'),
    ).length;
    expect(moved).toBeGreaterThan(0);
    expect(total(samples, METRIC.fallbacks, { from: 'relay', to: 'official' })).toBeGreaterThanOrEqual(moved);
    expect(total(samples, METRIC.fallbacks, { from: 'official' })).toBe(0);

    // Provider errors by kind, counted where the activities classify them
    expect(total(samples, METRIC.providerErrors, { provider: 'relay', kind: 'rate_limited' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(total(samples, METRIC.providerErrors, { provider: 'relay', kind: 'unavailable' })).toBeGreaterThanOrEqual(
      takes().filter((t) => t.provider === 'relay' && t.outcome === 'unavailable').length,
    );
    expect(total(samples, METRIC.providerErrors, { provider: 'official', kind: 'transient' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(total(samples, METRIC.providerErrors, { provider: 'official', kind: 'rejected' })).toBe(1);
    expect(total(samples, METRIC.providerErrors, { kind: 'invalid' })).toBe(0);
  });

  test('a second worker asked for the same metrics address stops, naming the variable', async () => {
    const second = spawnWorker({
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SIMULATOR_URL: sim.url,
      ...SIMULATOR_KEYS,
      [METRICS_ADDRESS_ENV]: new URL(metricsUrl).host,
    });
    expect(await exited(second)).toBe(1);
    expect(second.output()).toContain(`MetricsBindError: cannot serve metrics on ${new URL(metricsUrl).host}`);
    expect(second.output()).toContain(METRICS_ADDRESS_ENV);
  });

  test('every activity log line names its series, and scene, take, provider and job where they exist', () => {
    const lines = worker
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // our activity lines carry `activity`; the SDK's own (e.g. "Activity failed") carry `activityType`
    const activityLines = lines.filter((l) => typeof l.activity === 'string' || typeof l.activityType === 'string');
    const typeOf = (l: Record<string, unknown>) => String(l.activity ?? l.activityType);
    const seen = new Set(activityLines.map(typeOf));
    for (const type of ['storeSourceClip', 'createCharacterRef', 'submitTake', 'collectJob', 'writeManifest'])
      expect([type, seen.has(type)]).toEqual([type, true]);
    expect(activityLines.some((l) => l.component === 'temporal')).toBe(true); // the SDK's "Activity failed" warnings too

    for (const line of activityLines) {
      const where = `${typeOf(line)}: ${JSON.stringify(line)}`;
      expect([where, line.seriesId]).toEqual([where, seriesId]);
      if (['submitTake', 'collectJob', 'storeAsset'].includes(typeOf(line))) {
        const scene = result.scenes.find((s) => s.index === line.scene);
        expect([where, scene?.index]).toEqual([where, line.scene]);
        expect([where, typeof line.take]).toEqual([where, 'number']);
        const take = scene?.takes.find((t) => t.take === line.take);
        expect([where, line.provider]).toEqual([where, take?.provider]);
        if (typeOf(line) !== 'submitTake' || line.msg === 'take submitted')
          expect([where, line.jobId]).toEqual([where, take?.jobId]);
      }
    }
  });
});
