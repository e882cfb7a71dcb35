/**
 * The Temporal Web UI decodes encrypted payloads through `sora-series`' codec endpoint, as a
 * person sees it: a dev server with the UI started with `--ui-codec-endpoint`, the codec server
 * allowing the UI's origin, a workflow whose input was encrypted by the client, and Debian's
 * chromium. The control: the same page with the codec server allowing another origin only shows
 * no prompt (the browser refuses the cross-origin answer), so the check can fail.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { BrowserContext, Page } from 'playwright-core';
import { EncryptionCodec } from '../common/codec/encryption-codec';
import { startCodecServer, type RunningCodecServer } from '../client/codec-server/server';
import { freePort } from '../common/process';
import { startDevServer, type DevServer } from '../client/stack/dev-server';
import { waitFor } from './chaos/chaos-kit';
import { launchChromium } from './helpers/browser';

describe('the Web UI shows encrypted payloads in clear through the codec endpoint', () => {
  const codec = new EncryptionCodec([{ id: 'ui', key: randomBytes(32) }]);
  const prompt = `lighthouse${randomBytes(6).toString('hex')}`;
  let dir: string;
  let server: DevServer;
  let codecPort: number;
  let uiOrigin: string;
  let codecServer: RunningCodecServer | undefined;
  let connection: Connection;
  let handle: WorkflowHandleWithFirstExecutionRunId;
  let browser: BrowserContext;
  let page: Page;

  const serveCodec = async (corsOrigins: string[]) => {
    await codecServer?.close();
    codecServer = await startCodecServer({ codec, port: codecPort, host: '127.0.0.1', corsOrigins });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sora-codec-ui-'));
    codecPort = await freePort();
    const uiPort = await freePort();
    uiOrigin = `http://127.0.0.1:${uiPort}`;
    await serveCodec([uiOrigin]);
    server = await startDevServer({
      ui: true,
      uiPort,
      codecEndpoint: `http://127.0.0.1:${codecPort}`,
      logFile: join(dir, 'temporal.log'),
    });
    connection = await Connection.connect({ address: server.address });
    // No worker needed: the input sits encrypted in the first event of a workflow nobody runs.
    const client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
    handle = await client.workflow.start('seriesWorkflow', {
      workflowId: `codec-ui-${Date.now()}`,
      taskQueue: `codec-ui-${Date.now()}`,
      args: [{ scenes: [{ prompt: `@character ${prompt}` }] }],
    });
    browser = await launchChromium(join(dir, 'profile'));
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await handle?.terminate('codec ui test done').catch(() => undefined);
    await connection?.close();
    await codecServer?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const historyPage = () =>
    `${uiOrigin}/namespaces/default/workflows/${handle.workflowId}/${handle.firstExecutionRunId}/history`;

  test('the server holds ciphertext, the UI page shows the prompt', async () => {
    const raw = JSON.stringify((await handle.fetchHistory()).events?.[0]);
    expect(raw).not.toContain(prompt);
    const shown = await waitFor(
      'the decoded input on the workflow page',
      async () => {
        await page.goto(historyPage());
        await page
          .getByText(prompt)
          .first()
          .waitFor({ timeout: 5_000 })
          .catch(() => undefined);
        const body = await page.innerText('body');
        return body.includes(prompt) ? body : undefined;
      },
      45_000,
      500,
    );
    expect(shown).toContain(prompt);
    expect(shown).not.toContain('Codec Server could not connect');
  });

  test('control: a codec server that does not allow the UI origin leaves the page without the prompt', async () => {
    await serveCodec(['http://elsewhere.example']);
    await page.goto(historyPage());
    // The UI says so itself, and shows the ciphertext.
    await page.getByText('Codec Server could not connect').first().waitFor({ state: 'attached' });
    await page.getByText(handle.workflowId).first().waitFor();
    const body = await waitFor(
      'the codec error on the page',
      async () => {
        const text = await page.innerText('body');
        return text.includes('Codec Server could not connect') ? text : undefined;
      },
      20_000,
    );
    expect(body).not.toContain(prompt);
  });
});
