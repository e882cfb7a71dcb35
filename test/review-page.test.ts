/**
 * The review page as a person uses it: Debian's chromium (playwright-core) on the gateway's page,
 * a real worker, the dev server and the simulator over HTTP. The page lists the scenes, a take's
 * <video> really loads the stored MP4 (by Range), a refused action shows the API's own words
 * inline, and approving every take on the page completes an `approval: required` series. With a
 * gateway token: no page without it, `?token=` once becomes an HttpOnly cookie and leaves the
 * address, the cookie carries the page, its data and its videos, and the video route serves only
 * the files the series' own results name.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { profilesOf } from '../activities/providers/registry';
import { startGateway, type RunningGateway } from '../client/gateway/server';
import { SESSION_COOKIE } from '../client/gateway/auth';
import { launchChromium } from './helpers/browser';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { ROOT } from './helpers/processes';

/** Set to refresh the screenshot the docs show (docs/images/review-page.png); otherwise it goes to a temp folder. */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

interface Take {
  take: number;
  outcome: string;
  sha256?: string;
}
interface SceneTakes {
  index: number;
  status: string;
  takes: Take[];
}

/** What a <video> element says once it has its metadata or gave up. */
interface VideoState {
  readyState: number;
  duration: number;
  error?: number;
}

describe('the review page', () => {
  const token = `review-token-${randomBytes(12).toString('hex')}`;
  let h: Harness;
  let gw: RunningGateway;
  let guarded: RunningGateway;
  let dir: string;
  let browser: BrowserContext;
  let page: Page;
  const logLines: string[] = [];
  /** The series the first test runs to completion; the token test reads it again. */
  let approved: { name: string; id: string; video: string } | undefined;

  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1 } });
    dir = await mkdtemp(join(tmpdir(), 'sora-review-page-'));
    const common = {
      client: h.client,
      taskQueue: h.taskQueue,
      logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
      profiles: profilesOf(relayAndOfficial(h.sim)),
      dataDir: h.dataDir,
    };
    gw = await startGateway(common);
    guarded = await startGateway({ ...common, authToken: token });
    browser = await launchChromium(join(dir, 'profile'), { viewport: { width: 1280, height: 900 } });
    page = await browser.newPage();
    page.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await guarded?.close();
    await h?.stop();
    if (dir) await rm(join(dir, 'profile'), { recursive: true, force: true });
  });

  const api = async (gateway: RunningGateway, path: string, init: RequestInit = {}) => {
    const response = await fetch(`${gateway.url}${path}`, init);
    const text = await response.text();
    const json = response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
    return { status: response.status, headers: response.headers, text, json };
  };
  const postJson = (gateway: RunningGateway, path: string, body: unknown, headers: Record<string, string> = {}) =>
    api(gateway, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const bearer = { authorization: `Bearer ${token}` };
  let serial = 0;
  /** A spec for the simulator, started through the gateway's POST /series. */
  async function startThrough(gateway: RunningGateway, prompts: string[], extra: Record<string, unknown> = {}) {
    const name = `review-${Date.now()}-${++serial}`;
    const started = await postJson(gateway, '/series', {
      spec: {
        name,
        character: {
          name: 'Mira',
          description: 'a red-haired courier in a yellow raincoat',
          clip: `${h.sim.url}/clips/mira.mp4`,
        },
        providers: ['relay', 'official'],
        scenes: prompts.map((prompt) => ({ prompt })),
        ...extra,
      },
    });
    expect(started.status).toBe(201);
    return { name, id: started.json.id as string };
  }

  const scene = (index: number) => page.locator(`section.scene[data-scene="${index}"]`);
  const takeCard = (index: number, take: number) => scene(index).locator(`figure.take[data-take="${take}"]`);

  /** Waits for the element's metadata (or its error): the browser has fetched and parsed the MP4. */
  const videoState = (video: Locator): Promise<VideoState> =>
    video.evaluate(
      (node: unknown) =>
        new Promise<VideoState>((resolve) => {
          const v = node as VideoState & {
            error: { code: number } | null;
            addEventListener(event: string, listener: () => void): void;
          };
          const done = () => resolve({ readyState: v.readyState, duration: v.duration, error: v.error?.code });
          if (v.readyState >= 1 || v.error) return done();
          v.addEventListener('loadedmetadata', done);
          v.addEventListener('error', done);
        }),
    );

  async function screenshot(file: string): Promise<void> {
    const path = join(dir, file);
    await page.screenshot({ path, fullPage: true });
    if (UPDATE_SCREENSHOTS) {
      await mkdir(join(ROOT, 'docs', 'images'), { recursive: true });
      await copyFile(path, join(ROOT, 'docs', 'images', file));
    }
    console.log(`review page screenshot: ${path}`);
  }

  test('lists the scenes, plays a take, shows a refusal inline in the words of the API; reject, retry and approve from the page complete the series', async () => {
    // The first generation fails (processing_error): that scene has a failed take 1 and a completed take 2.
    h.sim.setScenario({ contracts: { 'relay-v1': { failJobs: { code: 'processing_error', burst: 1 } } } });
    const { name, id } = await startThrough(gw, ['@character runs along the harbor wall', '@character waves'], {
      approval: 'required',
    });
    // The memo links the page (the Web UI shows it), at the gateway that started the series.
    const { memo } = await h.client.workflow.getHandle(id).describe();
    expect(memo?.reviewUrl).toBe(`${gw.url}/review/${name}`);

    const videoResponses: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/video')) videoResponses.push(r.status());
    });
    await page.goto(memo!.reviewUrl as string);
    await page.locator('#summary', { hasText: 'awaiting_approval' }).waitFor({ timeout: 60_000 });
    await expect(page.locator('#series').innerText()).resolves.toBe(id);
    await expect(page.locator('section.scene h2').allInnerTexts()).resolves.toEqual(['Scene 1', 'Scene 2']);
    await expect(page.locator('body').getAttribute('data-state')).resolves.toBe('live');

    const takes = (await api(gw, `/series/${name}/takes`)).json.scenes as SceneTakes[];
    const failed = takes.find((s) => s.takes.some((t) => t.outcome === 'failed'))!;
    expect(failed.takes.map((t) => t.outcome)).toEqual(['failed', 'completed']);
    approved = { name, id, video: `/series/${name}/scenes/${failed.index}/takes/2/video` };
    // Every completed take is on the page with a player; it really loads (the browser asks by Range).
    for (const s of takes)
      for (const t of s.takes.filter((t) => t.outcome === 'completed')) {
        const state = await videoState(takeCard(s.index, t.take).locator('video'));
        expect(state.error).toBeUndefined();
        expect(state.readyState >= 1 || state.duration > 0).toBe(true);
      }
    expect(videoResponses.length).toBeGreaterThan(0);
    expect(videoResponses.every((status) => status === 206 || status === 200)).toBe(true);
    expect(videoResponses).toContain(206);
    await expect(takeCard(failed.index, 1).locator('figcaption').innerText()).resolves.toMatch(
      /^take 1: failed on relay · \$0\.00 · .*heavy load/,
    );

    // Approving the failed take: the series refuses, the page shows the same words the API answers.
    await page.getByRole('button', { name: `Approve take 1 of scene ${failed.index}` }).click();
    const refusal = takeCard(failed.index, 1).locator('.answer.refused');
    await refusal.waitFor();
    const fromApi = await postJson(gw, `/series/${name}/review`, {
      index: failed.index,
      take: 1,
      verdict: 'approve',
    });
    expect(fromApi.status).toBe(422);
    expect(fromApi.json.error.message).toMatch(/take 1 of scene \d ended failed; only completed takes can be reviewed/);
    await expect(refusal.innerText()).resolves.toBe(fromApi.json.error.message);
    await screenshot('review-page.png');

    // The other scene's take: rejected with a note, then retried with a new prompt, all from the page.
    // The page shows the new take without being reloaded: it refreshes while the series runs.
    const other = takes.find((s) => s !== failed)!;
    await page.getByRole('textbox', { name: `Note for take 1 of scene ${other.index}` }).fill('the light is wrong');
    await page.getByRole('button', { name: `Reject take 1 of scene ${other.index}` }).click();
    await takeCard(other.index, 1).locator('.answer.accepted', { hasText: 'rejected take 1' }).waitFor();
    await takeCard(other.index, 1).locator('figcaption', { hasText: ' · rejected: the light is wrong' }).waitFor();
    await page.getByRole('textbox', { name: `New prompt for scene ${other.index}` }).fill('@character waves at dusk');
    await page.getByRole('button', { name: `Retry scene ${other.index}` }).click();
    await scene(other.index).locator('.retry .answer.accepted', { hasText: 'a new take is queued' }).waitFor();
    const retake = takeCard(other.index, 2);
    await retake.locator('figcaption', { hasText: 'take 2: completed on relay' }).waitFor({ timeout: 60_000 });
    expect((await videoState(retake.locator('video'))).readyState).toBeGreaterThanOrEqual(1);

    // Approve the last completed take of each scene: the series completes, the page says so and stops.
    for (const s of [failed, other]) {
      await page.getByRole('button', { name: `Approve take 2 of scene ${s.index}` }).click();
      await takeCard(s.index, 2).locator('.answer.accepted').waitFor();
    }
    await page.locator('body[data-state="ended"]').waitFor();
    await expect(page.locator('#summary').innerText()).resolves.toMatch(
      /^completed · 2\/2 scenes done · \$0\.36 · final$/,
    );
    for (const s of [failed, other])
      await expect(takeCard(s.index, 2).locator('figcaption').innerText()).resolves.toMatch(/ · approved$/);
    expect((await api(gw, `/series/${name}`)).json.status).toBe('completed');
    // Ended: the buttons are off, the series' manifest is final.
    await expect(page.getByRole('button', { name: 'Retry scene 1' }).isDisabled()).resolves.toBe(true);
  });

  test('retrying a running scene is refused inline with the series’ own words', async () => {
    // Jobs for this prompt never finish: the scene stays running as long as the test needs.
    h.sim.setScenario({ contracts: { 'relay-v1': { stuck: { at: 99, matchWord: 'lingers' } } } });
    const { name, id } = await startThrough(gw, ['@character lingers by the sea']);
    try {
      await page.goto(`${gw.url}/review/${name}`);
      await takeCard(1, 1).locator('figcaption', { hasText: 'generating on relay' }).waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Retry scene 1' }).click();
      const refusal = scene(1).locator('.retry .answer.refused');
      await refusal.waitFor();
      const fromApi = await postJson(gw, `/series/${name}/retry`, { index: 1 });
      expect(fromApi.status).toBe(422);
      expect(fromApi.json.error.message).toMatch(
        /: index: scene 1 has not finished \(running or queued\); retry it once it has a result$/,
      );
      await expect(refusal.innerText()).resolves.toBe(fromApi.json.error.message);
      // A running take has no review buttons: it has no outcome to review yet.
      await expect(takeCard(1, 1).getByRole('button').count()).resolves.toBe(0);
    } finally {
      h.sim.setScenario({});
      await h.client.workflow
        .getHandle(id)
        .terminate('review page test done')
        .catch(() => undefined);
    }
  });

  test('with a token: 401 without it; ?token= once sets an HttpOnly SameSite=Strict cookie and leaves the address; the cookie carries the page, its data and videos', async () => {
    expect(approved).toBeDefined();
    const { name, video } = approved!;
    const pageUrl = `${guarded.url}/review/${name}`;

    const without = await page.goto(pageUrl);
    expect(without?.status()).toBe(401);
    expect(await page.innerText('body')).toContain('?token=<token>');
    expect((await page.goto(`${pageUrl}?token=not-the-token`))?.status()).toBe(401);
    expect(await browser.cookies(guarded.url)).toEqual([]);

    const opened = await page.goto(`${pageUrl}?token=${token}`);
    expect(opened?.status()).toBe(200);
    expect(page.url()).toBe(pageUrl); // the token is out of the address bar and the history
    const redirect = await opened!.request().redirectedFrom()!.response();
    expect(redirect?.status()).toBe(303);
    const cookies = await browser.cookies(guarded.url);
    expect(cookies).toEqual([
      expect.objectContaining({ name: SESSION_COOKIE, httpOnly: true, sameSite: 'Strict', path: '/' }),
    ]);
    expect(cookies[0].value).not.toContain(token);
    expect(await page.evaluate('document.cookie')).toBe(''); // the page's script cannot read it

    // The page reads its data and plays its videos on the cookie alone.
    await page.locator('#summary', { hasText: 'completed' }).waitFor();
    await expect(page.locator('section.scene h2').allInnerTexts()).resolves.toEqual(['Scene 1', 'Scene 2']);
    const state = await videoState(page.locator('video').first());
    expect(state.readyState >= 1 || state.duration > 0).toBe(true);
    // ... and on the next visit too.
    expect((await page.reload())?.status()).toBe(200);

    // Nothing the gateway serves or logs holds the token.
    expect(await page.content()).not.toContain(token);
    for (const file of ['review.js', 'review.css'])
      expect((await api(guarded, `/review-page/${file}`, { headers: bearer })).text).not.toContain(token);
    expect((await api(guarded, `/review-page/review.js`)).status).toBe(401);

    // Outside the browser: the bearer header or the cookie, never nothing; a cookie from another origin is refused.
    const session = `${SESSION_COOKIE}=${cookies[0].value}`;
    expect((await api(guarded, video)).status).toBe(401);
    expect((await api(guarded, video, { headers: { cookie: session } })).status).toBe(200);
    const part = await api(guarded, video, { headers: { ...bearer, range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    const review = { index: 1, take: 1, verdict: 'approve' };
    const foreign = await postJson(guarded, `/series/${name}/review`, review, {
      cookie: session,
      origin: 'http://127.0.0.1:1',
    });
    expect(foreign.status).toBe(403);
    const own = await postJson(guarded, `/series/${name}/review`, review, { cookie: session, origin: guarded.url });
    expect(own.status).toBe(409); // past the door; the series has ended

    const logged = logLines.join('\n');
    expect(logged).toContain('"path":"/review/');
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(cookies[0].value);
  });

  test('the video route serves only what the series’ results name: traversal attempts are refused', async () => {
    expect(approved).toBeDefined();
    const { name, video } = approved!;
    const attempts: Array<[string, number]> = [
      [`/series/${name}/scenes/1/takes/..%2F..%2F..%2F..%2Fetc%2Fpasswd/video`, 400],
      [`/series/${name}/scenes/..%2F..%2Fassets/takes/1/video`, 400],
      [`/series/${name}/scenes/1/takes/1%2F..%2F2/video`, 400],
      [`/series/..%2F..%2F..%2Fetc%2Fpasswd/scenes/1/takes/1/video`, 404],
      [`/series/${name}/scenes/1/takes/1/video/..%2F..%2F..%2Fetc%2Fpasswd`, 404],
      [`/series/${name}/scenes/9/takes/1/video`, 404],
      [`/review-page/..%2F..%2F..%2Fpackage.json`, 404],
    ];
    for (const [path, status] of attempts) {
      const reply = await api(guarded, path, { headers: bearer });
      expect([path, reply.status]).toEqual([path, status]);
      expect(reply.json.error.message).toEqual(expect.any(String));
    }
    // Unencoded dot segments, sent as they are (fetch would resolve them first).
    const raw = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const url = new URL(guarded.url);
      get(
        {
          host: url.hostname,
          port: url.port,
          path: `/series/${name}/scenes/1/../../../../../etc/passwd`,
          headers: bearer,
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        },
      ).on('error', reject);
    });
    expect(raw.status).toBe(404);
    expect(raw.body).not.toContain('root:');
    expect((await api(guarded, video, { headers: bearer })).status).toBe(200);
  });
});
