/**
 * The Temporal Web UI, as a person sees it: a dev server of its own WITH the UI (the jest-wide
 * one is headless), a real worker, a series kept running by a slow simulator, and Debian's
 * chromium driven by playwright-core. The series must be findable by its search attributes, and
 * a filter that matches nothing must show nothing (so the checks can fail).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { startGateway, type RunningGateway } from '../client/gateway/server';
import { startSeries } from '../client/series/series-client';
import { startDevServer, type DevServer } from '../client/stack/dev-server';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { activityDepsFromEnv } from '../workers/activity-deps';
import { createSeriesWorker } from '../workers/series-worker';
import { waitFor } from './chaos/chaos-kit';
import { launchChromium } from './helpers/browser';
import { workflowBundle } from './helpers/harness';
import { seriesInput } from './helpers/specs';
import { relayAndOfficial } from './helpers/sora-pair';

const SCENES = 3;

describe('the Temporal Web UI shows a running series', () => {
  let dir: string;
  let shots: string;
  let server: DevServer;
  let sim: RunningSimulator;
  let workerConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let connection: Connection;
  let gateway: RunningGateway;
  let handle: WorkflowHandle;
  let browser: BrowserContext;
  let page: Page;
  let name: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sora-web-ui-'));
    shots = join(dir, 'screenshots');
    await mkdir(shots);
    server = await startDevServer({ ui: true, logFile: join(dir, 'temporal.log') });
    // Jobs take 10 minutes: the series is still running whenever the browser looks.
    sim = await startSimulator({
      port: 0,
      seed: 5,
      jobSeconds: 600,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    const env = {
      ...SIMULATOR_KEYS,
      SORA_SERIES_DATA_DIR: join(dir, 'data'),
      SORA_SERIES_POLL_MS: '500',
      SORA_SERIES_ALLOW_PRIVATE_URLS: '1',
    };
    const deps = activityDepsFromEnv(pino({ level: 'warn' }), env, relayAndOfficial(sim));
    workerConnection = await NativeConnection.connect({ address: server.address });
    const taskQueue = `web-ui-${process.pid}-${Date.now()}`;
    worker = await createSeriesWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue,
      deps,
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    gateway = await startGateway({
      client,
      taskQueue,
      logger: pino({ level: 'silent' }),
      dataDir: env.SORA_SERIES_DATA_DIR,
    });
    const input = seriesInput(sim.url, {}, SCENES);
    name = input.name;
    // Started by a client that knows the gateway: the memo links the series' review page.
    handle = await startSeries(client, input, { taskQueue, gatewayUrl: gateway.url });

    await waitFor(
      'the Web UI to answer',
      async () => ((await fetch(server.uiUrl!).catch(() => undefined))?.ok ? true : undefined),
      30_000,
    );
    browser = await launchChromium(join(dir, 'profile'), { viewport: { width: 1400, height: 900 } });
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await handle?.terminate('web ui test done').catch(() => undefined);
    if (worker) {
      worker.shutdown();
      await running;
    }
    await workerConnection?.close();
    await gateway?.close();
    await connection?.close();
    await sim?.close();
    await server?.stop();
    // keep the screenshots; drop the browser profile, data and server log
    for (const entry of ['profile', 'data', 'temporal.log'])
      if (dir) await rm(join(dir, entry), { recursive: true, force: true });
  });

  const listUrl = (query: string) => `${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;

  /** Opens the workflow list filtered by `query`, reloading until it has `rows` rows naming `text` (visibility lags a little). */
  async function listShowing(query: string, text: string, rows = 1): Promise<Locator> {
    const matching = page.getByRole('row').filter({ hasText: text });
    await waitFor(
      `${rows} row(s) with ${text} for ${query}`,
      async () => {
        await page.goto(listUrl(query));
        await page.getByText('Workflow ID', { exact: true }).first().waitFor();
        await matching
          .first()
          .waitFor({ timeout: 3_000 })
          .catch(() => undefined);
        return (await matching.count()) >= rows ? true : undefined;
      },
      45_000,
      500,
    );
    return matching;
  }

  async function screenshot(file: string): Promise<string> {
    const path = join(shots, file);
    await page.screenshot({ path, fullPage: true });
    console.log(`web ui screenshot: ${path}`);
    return path;
  }

  test('the workflow list finds the series by its search attributes, and a query for another name finds nothing', async () => {
    const query = `SeriesName="${name}" AND SeriesStatus="running" AND ScenesTotal=${SCENES}`;
    const rows = await listShowing(query, handle.workflowId);
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toMatch(/RUNNING[\s\S]*seriesWorkflow/);
    await screenshot('series-list.png');

    // The same filters with one value changed: the UI must show no series.
    for (const other of [
      `SeriesName="${name}-not-there"`,
      `SeriesName="${name}" AND SeriesStatus="completed"`,
      `SeriesName="${name}" AND ScenesTotal=${SCENES + 1}`,
    ]) {
      await page.goto(listUrl(other));
      await page.getByText('No Workflows Found').waitFor();
      expect([other, await page.getByRole('row').filter({ hasText: handle.workflowId }).count()]).toEqual([other, 0]);
    }
  });

  test('the series page shows its status and search attributes; its scenes are listed by SeriesId', async () => {
    const rows = await listShowing(`SeriesName="${name}"`, handle.workflowId);
    await rows.first().getByRole('link', { name: handle.workflowId }).click();
    await page.getByText('Search Attributes', { exact: true }).click();
    await page.waitForURL(/\/search-attributes$/);
    const text = await waitFor(
      'the search attributes',
      async () => {
        const body = await page.innerText('body');
        return body.includes('"SeriesStatus"') ? body : undefined;
      },
      20_000,
    );
    expect(text).toContain(`"SeriesName": "${name}"`);
    expect(text).toContain('"SeriesStatus": "running"');
    expect(text).toContain(`"ScenesTotal": ${SCENES}`);
    expect(text).toContain('"SeriesCharacter": "Mira"');
    // the page header: status badge, then the workflow id
    expect(text.includes(`RUNNING\n${handle.workflowId}\n`)).toBe(true);
    await screenshot('series-search-attributes.png');

    // Scene workflows carry the series id: every scene is running (jobs take minutes).
    const scenes = await listShowing(`SeriesId="${handle.workflowId}"`, `${handle.workflowId}/scene-`, SCENES);
    expect(await scenes.count()).toBe(SCENES);
    for (let i = 0; i < SCENES; i++) expect(await scenes.nth(i).innerText()).toMatch(/RUNNING[\s\S]*sceneWorkflow/);
    await screenshot('scene-list.png');
  });

  test('the memo links the review page: the Memo tab shows its URL, the Details link opens it', async () => {
    const reviewUrl = `${gateway.url}/review/${name}`;
    const rows = await listShowing(`SeriesName="${name}"`, handle.workflowId);
    await rows.first().getByRole('link', { name: handle.workflowId }).click();
    await page.getByText('Memo', { exact: true }).click();
    await page.waitForURL(/\/memo$/);
    await waitFor(
      'the memo',
      async () => ((await page.innerText('body')).includes('"reviewUrl"') ? true : undefined),
      20_000,
    );
    expect(await page.innerText('body')).toContain(`"reviewUrl": "${reviewUrl}"`);

    // The details are Markdown the UI renders in a frame of its own: the link opens the page in a new tab.
    await page.getByText('User Metadata', { exact: true }).click();
    const link = page.frameLocator('iframe[src*="Review%20page"]').getByRole('link', { name: 'Review page' });
    expect(await link.getAttribute('href')).toBe(reviewUrl);
    const [review] = await Promise.all([browser.waitForEvent('page'), link.click()]);
    await review.locator('#series', { hasText: handle.workflowId }).waitFor();
    await review
      .locator('section.scene')
      .nth(SCENES - 1)
      .waitFor();
    expect(review.url()).toBe(reviewUrl);
    await review.close();
  });
});
