/**
 * The HTTP gateway over real HTTP, against a real worker, the dev server and the simulator:
 * every route, its 4xx bodies (field and fix), start -> status, append by signal-with-start to a
 * series that does not exist yet and then does, and an OpenAPI description that covers exactly
 * the routes this suite calls (and whose schemas fit the answers).
 */
import { createHash } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import pino from 'pino';
import { profilesOf } from '../activities/providers/registry';
import { startGateway, type RunningGateway } from '../client/gateway/server';
import { addScenes, MessageRefusedError } from '../client/series/steering';
import { parseSpec, SpecError } from '../client/spec/parse-spec';
import { seriesStatusQuery } from '../workflows/messages';
import type { SeriesResult } from '../workflows/types';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { officialWebhookVerifier } from '../client/gateway/webhook-verifiers';

interface Reply {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
}

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
};

describe('gateway', () => {
  let h: Harness;
  let gw: RunningGateway;
  const called = new Set<string>();
  let serial = 0;
  let doc: Doc;

  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 1 } });
    gw = await startGateway({
      client: h.client,
      taskQueue: h.taskQueue,
      logger: pino({ level: 'silent' }),
      profiles: profilesOf(relayAndOfficial(h.sim)),
      webhooks: {
        official: officialWebhookVerifier(`whsec_${Buffer.from('gateway-suite-webhook-key').toString('base64')}`),
      },
      dataDir: h.dataDir,
    });
    // The description, to check real answers against (not counted as a call: the last test makes that one).
    doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as Doc;
  });
  afterAll(async () => {
    await gw?.close();
    await h?.stop();
  });

  /** One real HTTP call; JSON bodies unless `raw` is given. Remembers what was called for the OpenAPI check. */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; raw?: string | Buffer } = {},
  ): Promise<Reply> {
    called.add(`${method} ${path.split('?')[0]}`);
    const payload = init.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const response = await fetch(`${gw.url}${path}`, {
      method,
      headers: {
        ...(payload !== undefined && init.raw === undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: payload,
    });
    const text = await response.text();
    return {
      status: response.status,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: response.headers,
    };
  }
  /** A call whose answer is not JSON (a page, a script, a video): status, headers and bytes. */
  async function fetchRaw(path: string, headers: Record<string, string> = {}) {
    called.add(`GET ${path.split('?')[0]}`);
    const response = await fetch(`${gw.url}${path}`, { headers, redirect: 'manual' });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }
  const error = (reply: Reply) =>
    reply.json.error as { message: string; fields?: Array<{ field: string; message: string }> };

  const spec = (overrides: Record<string, unknown> = {}, scenes = 2) => ({
    name: `gw-${Date.now()}-${++serial}`,
    character: {
      name: 'Mira',
      description: 'a red-haired courier in a yellow raincoat',
      clip: `${h.sim.url}/clips/mira.mp4`,
    },
    providers: ['relay', 'official'],
    scenes: Array.from({ length: scenes }, (_, i) => ({ prompt: `@character scene number ${i + 1} by the harbor` })),
    ...overrides,
  });
  const result = (id: string) => h.client.workflow.getHandle(id).result() as Promise<SeriesResult>;
  /** What `validate` says about a spec, line by line. */
  const specIssues = (value: unknown): string[] => {
    try {
      parseSpec(value, undefined, { profiles: profilesOf(relayAndOfficial(h.sim)) });
    } catch (err) {
      return (err as SpecError).issues;
    }
    throw new Error('expected the spec to be refused');
  };
  async function until<T>(
    what: string,
    read: () => Promise<T>,
    check: (value: T) => boolean,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read().catch(() => undefined);
      if (value !== undefined && check(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const status = (id: string) => h.client.workflow.getHandle(id).query(seriesStatusQuery);

  test('GET /healthz: up while Temporal answers', async () => {
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok', temporal: 'up' } });
  });

  test('POST /series starts a series, GET /series/{id} reads it by name or by encoded id, a second start is 409', async () => {
    const body = spec({
      scenes: [{ id: 'opening', prompt: '@character opens the show by the harbor' }, { prompt: '@character waves' }],
    });
    const started = await call('POST', '/series', { spec: body });
    expect(started).toMatchObject({ status: 201, json: { id: `series/${body.name}` } });
    expect(started.headers.get('location')).toBe(`/series/${encodeURIComponent(`series/${body.name}`)}`);

    const byName = await call('GET', `/series/${body.name}`);
    expect(byName.status).toBe(200);
    expect(byName.json).toMatchObject({ id: `series/${body.name}`, scenesTotal: 2 });
    expect(['running', 'completed']).toContain(byName.json.status);
    const byId = await call('GET', `/series/${encodeURIComponent(`series/${body.name}`)}`);
    expect(byId.json.id).toBe(`series/${body.name}`);

    const again = await call('POST', '/series', { spec: body });
    expect(again.status).toBe(409);
    expect(error(again).message).toMatch(
      new RegExp(`^series series/${body.name} already exists; pick another name or id`),
    );

    await result(`series/${body.name}`);
    const done = await call('GET', `/series/${body.name}`);
    expect(done.json).toMatchObject({
      status: 'completed',
      scenesDone: 2,
      scenes: [
        { index: 1, id: 'opening', status: 'completed' },
        { index: 2, status: 'completed' },
      ],
    });
    expect((done.json.scenes as object[])[1]).not.toHaveProperty('id');
    expect(validates('getSeries', 200, done.json)).toEqual([]);

    const customId = `series/custom-${Date.now()}`;
    const custom = await call('POST', '/series', { spec: spec({}, 1), id: customId });
    expect(custom).toMatchObject({ status: 201, json: { id: customId } });
    const badId = await call('POST', '/series', { spec: spec({}, 1), id: 'custom' });
    expect(badId.status).toBe(400);
    expect(error(badId).fields).toEqual([{ field: 'id', message: expect.stringMatching(/^must be series\/<name>/) }]);
    await result(customId);
  });

  test('a bad spec is refused with 400 and the same field+fix lines as the CLI; nothing starts', async () => {
    const bad = spec({
      character: { name: 'Mira', description: 'x', clip: 'ftp://cdn.example/mira.mp4' },
      colour: 'red',
      scenes: [{ prompt: '' }, { prompt: '@character and @bob', seconds: 99 }],
    });
    const lines = specIssues(bad);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const refused = await call('POST', '/series', { spec: bad });
    expect(refused.status).toBe(400);
    // The CLI names the spec's own level "(spec)"; the gateway calls that field "spec".
    expect(
      error(refused).fields!.map(
        (f) => `${f.field === 'spec' ? '(spec)' : f.field.replace(/^spec\./, '')}: ${f.message}`,
      ),
    ).toEqual(lines);
    for (const line of lines) expect(error(refused).message).toContain(`  - ${line}`);
    expect(error(refused).fields).toContainEqual({
      field: 'spec.character.clip',
      message: expect.stringMatching(/http\(s\)/),
    });

    const notASpec = await call('POST', '/series', { spec: 'harbor-tales.yaml' });
    expect(notASpec.status).toBe(400);
    expect(error(notASpec).fields).toEqual([
      { field: 'spec', message: expect.stringMatching(/must be a mapping with name, character and scenes/) },
    ]);
    const noSpec = await call('POST', '/series', {});
    expect(noSpec.status).toBe(400);
    // One provider-name rule: the gateway names the field as `validate` does.
    const nowhere = spec({ providers: ['relay', 'nowhere'] });
    const unknownProvider = await call('POST', '/series', { spec: nowhere });
    expect(unknownProvider.status).toBe(400);
    expect(specIssues(nowhere)).toEqual([
      'providers[1]: "nowhere" is not configured (configured: relay, official); remove it or add it to the provider config (SORA_SERIES_PROVIDERS)',
    ]);
    expect(error(unknownProvider).fields).toEqual(
      specIssues(nowhere).map((line) => ({
        field: 'spec.providers[1]',
        message: line.replace(/^providers\[1\]: /, ''),
      })),
    );
    await expect(h.client.workflow.getHandle(`series/${bad.name}`).describe()).rejects.toThrow();

    // As `start`: a budget below the planned cost (2 relay scenes, $0.24) is refused unless the pause is wanted.
    const tight = spec({ budgetUsd: 0.2 });
    const overBudget = await call('POST', '/series', { spec: tight });
    expect(overBudget.status).toBe(400);
    expect(error(overBudget).fields).toEqual([
      {
        field: 'spec.budgetUsd',
        message: expect.stringMatching(/^\$0\.20 is below the planned cost \$0\.24; .*send allowBudgetPause: true/),
      },
    ]);
    await expect(h.client.workflow.getHandle(`series/${tight.name}`).describe()).rejects.toThrow();
    expect(await call('POST', '/series', { spec: tight, allowBudgetPause: true })).toMatchObject({ status: 201 });
    await call('POST', `/series/${tight.name}/cancel`);
  });

  test('request errors: 415 not JSON, 400 broken JSON or unknown field, 413 too large, 404 unknown route or series, 405 wrong method', async () => {
    const notJson = await call('POST', '/series', undefined, {
      raw: 'name: harbor',
      headers: { 'content-type': 'application/yaml' },
    });
    expect(notJson.status).toBe(415);
    expect(error(notJson).message).toMatch(/send JSON with content-type: application\/json \(got application\/yaml\)/);
    const broken = await call('POST', '/series', undefined, {
      raw: '{"spec": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(error(broken).message).toMatch(/^the body is not valid JSON/);
    const extra = await call('POST', '/series', { spec: spec(), colour: 'red' });
    expect(extra.status).toBe(400);
    expect(error(extra).fields).toEqual([{ field: '(body)', message: expect.stringMatching(/colour/) }]);
    const huge = await call('POST', '/series', undefined, {
      raw: JSON.stringify({ spec: { name: 'x'.repeat(5 * 1024 * 1024) } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.status).toBe(413);
    expect(error(huge).message).toMatch(/larger than 4194304 bytes/);

    const route = await call('GET', '/nowhere');
    expect(route.status).toBe(404);
    expect(error(route).message).toMatch(/GET \/openapi.json/);
    const method = await call('GET', '/series');
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('POST');
    const unknown = await call('GET', '/series/never-started-here');
    expect(unknown.status).toBe(404);
    expect(error(unknown).message).toMatch(/^no series with id series\/never-started-here/);
    expect((await call('POST', '/series/never-started-here/pause')).status).toBe(404);
    expect((await call('POST', '/series/never-started-here/routing', { routing: 'cost' })).status).toBe(404);
    expect((await call('GET', '/series/%E0%A4%A')).status).toBe(404);
  });

  test('messages: signals answer 202, updates the series answer (422 with its words when refused), bad bodies 400, ended series 409', async () => {
    const body = spec({ maxParallel: 1, budgetUsd: 10 }, 3);
    const id = `series/${body.name}`;
    expect((await call('POST', '/series', { spec: body })).status).toBe(201);
    await until(
      'scene 1 running',
      () => status(id),
      (v) => v.running.length === 1,
    );

    expect(await call('POST', `/series/${body.name}/pause`, { reason: 'checking the first cut' })).toMatchObject({
      status: 202,
      json: { id, accepted: 'pause' },
    });
    const paused = await until(
      'paused',
      () => status(id),
      (v) => v.status === 'paused',
    );
    expect(paused.paused).toMatchObject({ by: 'user', reason: 'checking the first cut' });
    expect((await call('GET', `/series/${body.name}`)).json.status).toBe('paused');
    expect(await call('POST', `/series/${body.name}/resume`)).toMatchObject({
      status: 202,
      json: { accepted: 'resume' },
    });
    await until(
      'running again',
      () => status(id),
      (v) => v.status === 'running',
    );

    const badRouting = await call('POST', `/series/${body.name}/routing`, { routing: 'fastest' });
    expect(badRouting.status).toBe(400);
    expect(error(badRouting).fields).toEqual([
      { field: 'routing', message: expect.stringMatching(/character|cost|stability/) },
    ]);
    expect(await call('POST', `/series/${body.name}/routing`, { routing: 'cost' })).toMatchObject({
      status: 200,
      json: { routing: 'cost', previous: 'character' },
    });

    const lower = await call('POST', `/series/${body.name}/budget`, { budgetUsd: 5 });
    expect(lower.status).toBe(422);
    expect(error(lower).message).toMatch(/budgetUsd: must be more than the current budget \$10/);
    expect((await call('POST', `/series/${body.name}/budget`, { budgetUsd: -1 })).status).toBe(400);
    const raised = await call('POST', `/series/${body.name}/budget`, { budgetUsd: 20 });
    expect(raised).toMatchObject({ status: 200, json: { budgetUsd: 20 } });
    expect(validates('raiseBudget', 200, raised.json)).toEqual([]);

    const added = await call('POST', `/series/${body.name}/scenes`, {
      scenes: [{ prompt: '@character waves goodbye' }],
    });
    expect(added).toMatchObject({ status: 200, json: { indexes: [4] } });
    // One prompt rule: the gateway refuses at the door (400) in the words the spec and the series' own
    // addScenes validator use for the same scene.
    const bob = { prompt: '@character and @bob meet' };
    const refusedScene = await call('POST', `/series/${body.name}/scenes`, { scenes: [bob] });
    expect(refusedScene.status).toBe(400);
    expect(error(refusedScene).fields).toEqual([
      { field: 'scenes[0].prompt', message: expect.stringMatching(/^mentions @bob: a series has one character/) },
    ]);
    const line = `scenes[0].prompt: ${error(refusedScene).fields![0].message}`;
    expect(specIssues(spec({ scenes: [bob] }))).toEqual([line]);
    await expect(addScenes(h.client, id, [bob])).rejects.toThrow(
      new MessageRefusedError(id, 'addScenes', `addScenes refused by ${id}: ${line}`),
    );
    const noScenes = await call('POST', `/series/${body.name}/scenes`, { scenes: [] });
    expect(noScenes.status).toBe(400);
    expect(error(noScenes).fields).toEqual([{ field: 'scenes', message: expect.stringMatching(/at least one scene/) }]);
    const colour = await call('POST', `/series/${body.name}/scenes`, { scenes: [{ prompt: 'ok', colour: 'red' }] });
    expect(colour.status).toBe(400);
    expect(error(colour).fields![0].field).toBe('scenes[0]');

    const noScene = await call('POST', `/series/${body.name}/retry`, { index: 42 });
    expect(noScene.status).toBe(422);
    expect(error(noScene).message).toMatch(/index: no scene 42/);
    expect((await call('POST', `/series/${body.name}/retry`, { index: 0 })).status).toBe(400);
    const noTake = await call('POST', `/series/${body.name}/review`, { index: 1, take: 7, verdict: 'approve' });
    expect(noTake.status).toBe(422);
    expect((await call('POST', `/series/${body.name}/review`, { index: 1, take: 1, verdict: 'maybe' })).status).toBe(
      400,
    );

    expect(await call('POST', `/series/${body.name}/cancel`, { reason: 'wrong coat' })).toMatchObject({
      status: 202,
      json: { accepted: 'cancel' },
    });
    const done = await result(id);
    expect(done.status).toBe('cancelled');
    const ended = await call('POST', `/series/${body.name}/pause`);
    expect(ended.status).toBe(409);
    expect(error(ended).message).toMatch(/has ended/);
    expect((await call('GET', `/series/${body.name}`)).json.status).toBe('cancelled');
  });

  test('retry and review answer 200 with what the series did', async () => {
    const body = spec({ approval: 'required' }, 1);
    const id = `series/${body.name}`;
    expect((await call('POST', '/series', { spec: body })).status).toBe(201);
    await until(
      'awaiting approval',
      () => status(id),
      (v) => v.status === 'awaiting_approval',
    );
    expect(
      await call('POST', `/series/${encodeURIComponent(id)}/retry`, {
        index: 1,
        prompt: '@character in a yellow raincoat, at dusk',
      }),
    ).toMatchObject({
      status: 200,
      json: { index: 1, queued: true },
    });
    await until(
      'take 2 done',
      () => status(id),
      (v) => v.scenes[0]?.takes.length === 2 && v.awaitingReview.includes(1),
    );
    expect(
      await call('POST', `/series/${body.name}/review`, { index: 1, take: 2, verdict: 'approve', note: 'good' }),
    ).toMatchObject({
      status: 200,
      json: { index: 1, take: 2, verdict: 'approve' },
    });
    expect((await result(id)).status).toBe('completed');
  });

  test("the review page and what it reads: GET /review/{id} (HTML), its files, GET /series/{id}/takes, a take's video whole or by Range", async () => {
    const body = spec({}, 1);
    const id = `series/${body.name}`;
    expect((await call('POST', '/series', { spec: body })).status).toBe(201);
    // The memo links the page at the gateway that started the series (the Web UI shows the memo).
    expect((await h.client.workflow.getHandle(id).describe()).memo?.reviewUrl).toBe(`${gw.url}/review/${body.name}`);
    await result(id);

    const html = await fetchRaw(`/review/${body.name}`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html.bytes.toString()).toContain('<script src="../review-page/review.js" defer></script>');
    // No token on this gateway: ?token= is dropped from the address all the same, and no cookie is set.
    const dropped = await fetchRaw(`/review/${body.name}?token=anything&x=1`);
    expect(dropped.status).toBe(303);
    expect(dropped.headers.get('location')).toBe(`./${body.name}?x=1`);
    expect(dropped.headers.get('set-cookie')).toBeNull();
    const missing = await call('GET', `/review/nobody-${Date.now()}`);
    expect(missing.status).toBe(404);
    expect(error(missing).message).toMatch(/^no series with id series\/nobody-/);
    const script = await fetchRaw('/review-page/review.js');
    expect(script).toMatchObject({ status: 200 });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetchRaw('/review-page/review.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const otherFile = await call('GET', '/review-page/server.ts');
    expect(otherFile.status).toBe(404);
    expect(error(otherFile).message).toBe('no page file server.ts; the review page has review.js, review.css');

    const takes = await call('GET', `/series/${body.name}/takes`);
    expect(takes).toMatchObject({
      status: 200,
      json: {
        id,
        scenes: [
          { id, index: 1, status: 'completed', takes: [{ take: 1, outcome: 'completed', sha256: expect.any(String) }] },
        ],
      },
    });
    expect(validates('getTakes', 200, takes.json)).toEqual([]);

    const path = `/series/${body.name}/scenes/1/takes/1/video`;
    const whole = await fetchRaw(path);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const size = whole.bytes.length;
    expect(whole.bytes.subarray(4, 8).toString()).toBe('ftyp'); // an MP4
    expect(createHash('sha256').update(whole.bytes).digest('hex')).toBe(
      (takes.json.scenes as Array<{ takes: Array<{ sha256: string }> }>)[0].takes[0].sha256,
    );
    for (const [range, first, last] of [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, size - 1],
      ['bytes=-50', size - 50, size - 1],
      [`bytes=10-${size + 1000}`, 10, size - 1],
    ] as const) {
      const part = await fetchRaw(path, { range });
      expect([range, part.status, part.headers.get('content-range')]).toEqual([
        range,
        206,
        `bytes ${first}-${last}/${size}`,
      ]);
      expect(part.bytes.equals(whole.bytes.subarray(first, last + 1))).toBe(true);
    }
    expect((await fetchRaw(path, { range: 'bytes=0-1,5-9' })).status).toBe(200); // several ranges: the whole file
    const past = await fetchRaw(path, { range: `bytes=${size}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    const badTake = await call('GET', `/series/${body.name}/scenes/1/takes/first/video`);
    expect(badTake.status).toBe(400);
    expect(error(badTake).fields).toEqual([{ field: 'take', message: 'must be a whole number from 1, got "first"' }]);
    const noTake = await call('GET', `/series/${body.name}/scenes/1/takes/2/video`);
    expect(noTake.status).toBe(404);
    expect(error(noTake).message).toBe(`${id} has no finished take 2 of scene 1; GET /series/{id}/takes lists them`);
    const noScene = await call('GET', `/series/nobody-${Date.now()}/takes`);
    expect(noScene.status).toBe(404);
  });

  test("POST /series/{id}/cut answers the episode (the series' own once it ended); 409 with nothing to cut, 404 for no series", async () => {
    const body = spec({}, 2);
    const id = `series/${body.name}`;
    expect((await call('POST', '/series', { spec: body })).status).toBe(201);
    const done = await result(id);
    const cut = await call('POST', `/series/${body.name}/cut`);
    expect(cut.status).toBe(200);
    expect(validates('cutEpisode', 200, cut.json)).toEqual([]);
    expect(cut.json).toMatchObject({
      seriesId: id,
      episode: { path: done.episode!.path, sha256: done.episode!.sha256, joined: 'concat' },
      contactSheet: done.contactSheet,
      posters: done.posters,
    });
    expect((await call('GET', `/series/${body.name}`)).json.episode).toEqual({
      path: done.episode!.path,
      sha256: done.episode!.sha256,
      seconds: done.episode!.seconds,
    });

    h.sim.setScenario({ rejectWord: 'FORBIDDEN' });
    try {
      const rejected = spec({ scenes: [{ prompt: '@character does something FORBIDDEN' }] });
      expect((await call('POST', '/series', { spec: rejected })).status).toBe(201);
      expect((await result(`series/${rejected.name}`)).status).toBe('completed_with_rejections');
      const nothing = await call('POST', `/series/${rejected.name}/cut`, {});
      expect(nothing.status).toBe(409);
      expect(error(nothing).message).toContain('no scene has a completed take');
    } finally {
      h.sim.setScenario({});
    }
    expect((await call('POST', `/series/missing-${Date.now()}/cut`)).status).toBe(404);
    expect((await call('POST', `/series/${body.name}/cut`, { out: 'x' })).status).toBe(400);
  });

  test('POST /series/{id}/scenes:append starts a streaming series when missing, then appends to the same run; end-of-scenes completes it', async () => {
    const body = spec({ streaming: true, scenes: [] });
    const id = `series/${body.name}`;
    await expect(h.client.workflow.getHandle(id).describe()).rejects.toThrow();

    const first = await call('POST', `/series/${body.name}/scenes:append`, {
      spec: body,
      scenes: [{ prompt: '@character arrives at the pier' }],
    });
    expect(first).toMatchObject({ status: 202, json: { id, runId: expect.any(String) } });
    await until(
      'scene 1 done, waiting for more',
      () => status(id),
      (v) => v.scenesDone === 1 && v.running.length === 0,
    );
    expect((await call('GET', `/series/${body.name}`)).json).toMatchObject({
      status: 'running',
      scenesTotal: 1,
      scenesDone: 1,
    });

    const second = await call('POST', `/series/${body.name}/scenes:append`, {
      spec: body,
      scenes: [{ prompt: '@character leaves on a boat' }],
    });
    expect(second).toMatchObject({ status: 202, json: { id, runId: first.json.runId } });
    const refused = await call('POST', `/series/${body.name}/scenes:append`, {
      spec: body,
      scenes: [{ prompt: '@character and @zed' }],
    });
    expect(refused.status).toBe(400);
    expect(error(refused).fields).toEqual([
      { field: 'scenes[0].prompt', message: expect.stringMatching(/mentions @zed/) },
    ]);
    const badSpec = await call('POST', `/series/${body.name}/scenes:append`, {
      spec: { ...body, character: undefined },
      scenes: [{ prompt: '@character waves' }],
    });
    expect(badSpec.status).toBe(400);
    expect(error(badSpec).fields).toEqual([{ field: 'spec.character', message: expect.stringMatching(/is required/) }]);

    await until(
      'scene 2 done',
      () => status(id),
      (v) => v.scenesDone === 2,
    );
    expect(await call('POST', `/series/${body.name}/end-of-scenes`)).toMatchObject({
      status: 202,
      json: { accepted: 'end-of-scenes' },
    });
    const done = await result(id);
    expect(done.status).toBe('completed');
    expect(done.scenes.map((s) => s.index)).toEqual([1, 2]);
  });

  test('webhooks: no signature headers 400, a forged signature 401, a provider without webhooks 404 (test/webhooks.test.ts covers the rest)', async () => {
    const unsigned = await call('POST', '/webhooks/official', {
      id: 'evt_1',
      object: 'event',
      created_at: 1,
      type: 'video.completed',
      data: { id: 'video_1' },
    });
    expect(unsigned.status).toBe(400); // no Standard Webhooks headers at all
    const forged = await call(
      'POST',
      '/webhooks/official',
      { id: 'evt_1', object: 'event', created_at: 1, type: 'video.completed', data: { id: 'video_1' } },
      {
        headers: {
          'webhook-id': 'evt_1',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': 'v1,AAAA',
        },
      },
    );
    expect(forged.status).toBe(401);
    expect(
      (await call('POST', '/webhooks/relay', { id: 'evt_1', type: 'video.completed', data: { id: 'x' } })).status,
    ).toBe(404);
  });

  test('with a token set, steering routes need Authorization: Bearer; health, the description and webhooks stay open', async () => {
    const token = 'gw-token-for-this-suite-123';
    const guarded = await startGateway({
      client: h.client,
      taskQueue: h.taskQueue,
      logger: pino({ level: 'silent' }),
      profiles: profilesOf(relayAndOfficial(h.sim)),
      authToken: token,
    });
    try {
      const post = (path: string, headers: Record<string, string> = {}) =>
        fetch(`${guarded.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{}',
        });
      const none = await post('/series');
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/Authorization: Bearer/);
      expect((await post('/series', { authorization: 'Bearer wrong-token-of-same-len' })).status).toBe(401);
      expect((await post('/series/x/pause', { authorization: `Basic ${token}` })).status).toBe(401);
      expect((await post('/series', { authorization: `Bearer ${token}` })).status).toBe(400); // past the door, refused for its body
      expect((await fetch(`${guarded.url}/healthz`)).status).toBe(200);
      expect((await post('/webhooks/official')).status).not.toBe(401); // signed webhooks carry their own proof
      const described = (await (await fetch(`${guarded.url}/openapi.json`)).json()) as Doc & {
        components: { securitySchemes?: unknown };
      };
      expect(described.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
      expect((described.paths['/series'].post as unknown as { security: unknown }).security).toEqual([{ bearer: [] }]);
      expect((described.paths['/healthz'].get as unknown as { security?: unknown }).security).toBeUndefined();
      // The page and its videos are guarded too; the page takes the token once as ?token=.
      const pageOp = described.paths['/review/{id}'].get as unknown as {
        security: unknown;
        parameters: Array<{ name: string; in: string }>;
      };
      expect(pageOp.security).toEqual([{ bearer: [] }]);
      expect(pageOp.parameters).toContainEqual(expect.objectContaining({ name: 'token', in: 'query' }));
      expect((await fetch(`${guarded.url}/review/x`)).status).toBe(401);
      const login = await fetch(`${guarded.url}/review/x?token=${token}`, { redirect: 'manual' });
      expect(login.status).toBe(303);
      expect(login.headers.get('location')).toBe('./x');
      expect(login.headers.get('set-cookie')).toMatch(
        /^sora_series_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/,
      );
      expect(login.headers.get('set-cookie')).not.toContain(token);
    } finally {
      await guarded.close();
    }
  });

  test('/characters: create (400 naming the field, 409 on a different definition), list, show, make a handle, retire', async () => {
    const name = `gw-cast-${process.pid}-${++serial}`;
    const character = { name, description: 'a courier in a yellow raincoat', clip: `${h.sim.url}/clips/mira.mp4` };
    const bad = await call('POST', '/characters', { character: { ...character, description: '' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({
      fields: [{ field: 'character.description', message: expect.stringContaining('must not be empty') }],
    });
    const created = await call('POST', '/characters', { character });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/characters/${name}`);
    expect(created.json).toMatchObject({ name, status: 'active', handles: [] });
    const differs = await call('POST', '/characters', { character: { ...character, description: 'someone else' } });
    expect(differs.status).toBe(409);
    expect(JSON.stringify(differs.json)).toContain('different description');
    const made = await call('POST', `/characters/${name}/handles`, { provider: 'relay' });
    expect(made.status).toBe(200);
    expect(made.json).toMatchObject({
      provider: 'relay',
      state: 'ready',
      ref: { id: expect.stringMatching(/^char_/) },
    });
    const listed = await call('GET', '/characters');
    expect(listed.status).toBe(200);
    expect((listed.json as unknown as Array<{ name: string }>).map((c) => c.name)).toContain(name);
    const shown = await call('GET', `/characters/${name}`);
    expect(shown.json).toMatchObject({ name, handles: [{ provider: 'relay', state: 'ready' }] });
    expect(validates('getCharacter', 200, shown.json)).toEqual([]);
    expect((await call('GET', `/characters/nobody-${serial}`)).status).toBe(404);
    const retired = await call('POST', `/characters/${name}/retire`, {});
    expect(retired.status).toBe(200);
    expect(retired.json).toMatchObject({ name, status: 'retired' });
  });

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uri', true);

  /** Problems of an answer against the schema the description gives for it. */
  function validates(operationId: string, status: number, body: unknown): string[] {
    const op = Object.values(doc.paths)
      .flatMap((methods) => Object.values(methods))
      .find((o) => (o as { operationId?: string }).operationId === operationId)!;
    const schema = op.responses[status].content!['application/json'].schema;
    const validate = ajv.compile({ ...(schema as object), components: doc.components });
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  }

  test('GET /openapi.json: OpenAPI 3.1 describing every route this suite called, and nothing it did not; schemas compile and fit real answers', async () => {
    const reply = await call('GET', '/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual(doc);
    expect(reply.json).toMatchObject({ openapi: '3.1.0', info: { title: 'sora-series gateway' } });

    const operations = Object.entries(doc.paths).flatMap(([template, methods]) =>
      Object.keys(methods).map((m) => ({ key: `${m.toUpperCase()} ${template}`, template, method: m.toUpperCase() })),
    );
    const matches = (template: string, path: string) =>
      new RegExp(`^${template.replace(/[.:]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}$`).test(path);
    const undescribed = [...called].filter((c) => {
      const [method, path] = c.split(' ');
      return !operations.some((o) => o.method === method && matches(o.template, path));
    });
    // Calls that were 404/405 on purpose are not routes.
    expect(undescribed.sort()).toEqual(['GET /nowhere', 'GET /series'].sort());
    const exercised = operations.filter((o) =>
      [...called].some((c) => c.split(' ')[0] === o.method && matches(o.template, c.split(' ')[1])),
    );
    expect(exercised.map((o) => o.key).sort()).toEqual(operations.map((o) => o.key).sort());
    expect(operations.map((o) => o.key).sort()).toEqual(
      [
        'GET /characters',
        'GET /characters/{name}',
        'POST /characters',
        'POST /characters/{name}/handles',
        'POST /characters/{name}/retire',
        'GET /healthz',
        'GET /openapi.json',
        'GET /review-page/{file}',
        'GET /review/{id}',
        'GET /series/{id}',
        'GET /series/{id}/scenes/{index}/takes/{take}/video',
        'GET /series/{id}/takes',
        'POST /series',
        'POST /series/{id}/budget',
        'POST /series/{id}/cancel',
        'POST /series/{id}/cut',
        'POST /series/{id}/end-of-scenes',
        'POST /series/{id}/pause',
        'POST /series/{id}/resume',
        'POST /series/{id}/retry',
        'POST /series/{id}/review',
        'POST /series/{id}/routing',
        'POST /series/{id}/scenes',
        'POST /series/{id}/scenes:append',
        'POST /webhooks/{provider}',
      ].sort(),
    );

    // Every schema compiles as JSON Schema 2020-12 (what OpenAPI 3.1 uses), refs resolved.
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(() => ajv.compile({ ...(schema as object), components: doc.components })).not.toThrow();
      expect(name).toMatch(/^[A-Za-z0-9]+$/);
    }
    expect(doc.components.schemas).toHaveProperty('SeriesSpec');
    expect(JSON.stringify(doc.components.schemas.StartSeriesRequest)).toContain(
      '"$ref":"#/components/schemas/SeriesSpec"',
    );
    // Real answers fit their described schemas (more are checked in the tests above).
    expect(validates('health', 200, (await call('GET', '/healthz')).json)).toEqual([]);
    const badRequest = await call('POST', '/series', {});
    expect(validates('startSeries', 400, badRequest.json)).toEqual([]);
    // Answers that are not JSON are described by their media type.
    const content = (path: string, status: number) => Object.keys(doc.paths[path].get.responses[status].content ?? {});
    expect(content('/review/{id}', 200)).toEqual(['text/html']);
    expect(content('/series/{id}/scenes/{index}/takes/{take}/video', 200)).toEqual(['video/mp4']);
    expect(content('/series/{id}/scenes/{index}/takes/{take}/video', 206)).toEqual(['video/mp4']);
    expect(Object.keys(doc.paths['/series/{id}/scenes/{index}/takes/{take}/video'].get.responses)).toEqual(
      expect.arrayContaining(['400', '404', '416']),
    );
  });
});
