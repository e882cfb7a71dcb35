/**
 * The official side of the simulator, driven by the real `openai` SDK (6.x). Every response the
 * SDK receives (errors included) is checked against the schemas of the OpenAPI file in
 * simulator/contracts (copied unchanged from shared/contracts), so the simulator cannot drift from the contract the adapters are written for.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import OpenAI, { APIError, toFile } from 'openai';
import type { Video, VideoCreateParams } from 'openai/resources/videos';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { probeBytes } from './helpers/media';

const KEYS = { official: 'sk-test-official', relay: 'sk-test-relay' };
// A verbatim copy of the published contract (MIT, see the LICENSE beside it), so a clone tests on its own.
const SPEC_PATH = path.resolve(__dirname, '../simulator/contracts/openai-videos.openapi.json');

// ---------------------------------------------------------------- OpenAPI response validation

interface OpenApiOperation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApiSpec {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown> };
}

const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiSpec;
// OpenAPI 3.1 schemas are JSON Schema 2020-12; OpenAPI-only keywords (example, x-*) are annotations.
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
ajv.addFormat('binary', true);
ajv.addFormat('uri', (s: string) => URL.canParse(s));
ajv.addSchema({ $id: 'openai-videos', components: spec.components });
const validators = new Map<string, ValidateFunction>();
function validatorFor(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `openai-videos${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

/** Path templates of the spec, literal ones first so `/videos/characters` is not read as an id. */
const templates = Object.keys(spec.paths)
  .map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    params: (template.match(/\{/g) ?? []).length,
  }))
  .sort((a, b) => a.params - b.params);

interface Exchange {
  method: string;
  path: string;
  status: number;
  contentType: string;
  json?: unknown;
  requestHeaders: Headers;
  formKeys?: string[];
}

/** Problems of one recorded response against the spec (empty when it conforms). */
function conformanceProblems(exchange: Exchange): string[] {
  const where = `${exchange.method} ${exchange.path} → ${exchange.status}`;
  const match = templates.find((t) => t.pattern.test(exchange.path));
  const operation = match ? spec.paths[match.template][exchange.method.toLowerCase()] : undefined;
  if (!match || !operation) return exchange.status === 404 ? [] : [`${where}: no such operation in the spec`];
  if (exchange.status >= 400) {
    const validate = validatorFor('#/components/schemas/ErrorResponse');
    return validate(exchange.json) ? [] : [`${where}: ${ajv.errorsText(validate.errors)}`];
  }
  const content = operation.responses[String(exchange.status)]?.content;
  if (!content) return [`${where}: status not in the spec`];
  const mediaType = exchange.contentType.split(';')[0].trim();
  if (!(mediaType in content)) return [`${where}: content type ${mediaType} not in ${Object.keys(content).join(', ')}`];
  if (mediaType !== 'application/json') return [];
  const schema = content[mediaType].schema as { $ref?: string } | undefined;
  if (!schema?.$ref) return [];
  const validate = validatorFor(schema.$ref);
  return validate(exchange.json) ? [] : [`${where}: ${ajv.errorsText(validate.errors)}`];
}

// ---------------------------------------------------------------- recording client

const exchanges: Exchange[] = [];
let checked = 0;
const coveredOperations = new Set<string>();

/** A fetch that records each response (body cloned) for validation, then hands it on untouched. */
async function recordingFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  // The SDK probes its fetch with a `data:` URL to check FormData support: not an API call.
  if (url.protocol !== 'http:') return response;
  const contentType = response.headers.get('content-type') ?? '';
  const exchange: Exchange = {
    method: (init?.method ?? 'GET').toUpperCase(),
    path: url.pathname.replace(/^\/v1/, ''),
    status: response.status,
    contentType,
    requestHeaders: new Headers(init?.headers),
    formKeys: init?.body instanceof FormData ? [...init.body.keys()] : undefined,
  };
  if (contentType.includes('application/json')) exchange.json = await response.clone().json();
  exchanges.push(exchange);
  return response;
}

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ keys: KEYS, seed: 7, jobSeconds: 0.2 });
  client = new OpenAI({ apiKey: KEYS.official, baseURL: sim.officialBaseUrl, maxRetries: 0, fetch: recordingFetch });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.setScenario({});
});

afterEach(() => {
  const problems = exchanges.flatMap(conformanceProblems);
  for (const exchange of exchanges) {
    const template = templates.find((t) => t.pattern.test(exchange.path))?.template;
    if (template && exchange.status < 300) coveredOperations.add(`${exchange.method} ${template}`);
  }
  checked += exchanges.length;
  exchanges.length = 0;
  expect(problems).toEqual([]);
});

// ---------------------------------------------------------------- helpers

async function waitForVideo(id: string): Promise<Video> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const video = await client.videos.retrieve(id);
    if (video.status === 'completed' || video.status === 'failed') return video;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${video.status}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

async function clipFile(name: string): Promise<File> {
  const bytes = Buffer.from(await (await fetch(`${sim.url}/clips/${name}.mp4`)).arrayBuffer());
  return toFile(bytes, `${name}.mp4`, { type: 'video/mp4' });
}

async function createCharacter(name: string, clip = name.toLowerCase()): Promise<string> {
  const character = await client.videos.createCharacter({ name, video: await clipFile(clip) });
  if (!character.id) throw new Error('character without id');
  return character.id;
}

/** Raw request through the recording fetch, for what the typed SDK cannot send. */
async function rawOfficial(
  pathBelowV1: string,
  init: RequestInit,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${KEYS.official}`);
  const response = await recordingFetch(`${sim.officialBaseUrl}${pathBelowV1}`, { ...init, headers });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function apiError(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

// ---------------------------------------------------------------- tests

describe('official contract through the openai SDK', () => {
  it('checks responses with a validator that really rejects off-contract bodies', () => {
    const base = {
      method: 'GET',
      path: '/videos/video_x',
      contentType: 'application/json',
      requestHeaders: new Headers(),
    };
    expect(conformanceProblems({ ...base, status: 200, json: { id: 'video_x', object: 'video' } })).not.toEqual([]);
    expect(conformanceProblems({ ...base, status: 200, contentType: 'text/plain' })).not.toEqual([]);
    expect(conformanceProblems({ ...base, status: 404, json: { error: { message: 'gone' } } })).not.toEqual([]);
  });

  it('runs the whole lifecycle: character, create, poll, download, remix, list, delete', async () => {
    const characterId = await createCharacter('Mira');
    expect(characterId).toMatch(/^char_/);
    const character = await client.videos.getCharacter(characterId);
    expect(character).toEqual({ id: characterId, name: 'Mira', created_at: expect.any(Number) });

    // Extra param outside the typed SDK: the SDK's form encoder sends it as `characters[][id]`.
    const params = {
      prompt: 'Mira walks by the sea at dawn',
      seconds: '8',
      size: '1280x720',
      characters: [{ id: characterId }],
    } as VideoCreateParams;
    const created = await client.videos.create(params);
    expect(exchanges.at(-1)?.formKeys).toContain('characters[][id]');
    expect(created).toMatchObject({
      object: 'video',
      model: 'sora-2',
      status: 'queued',
      progress: 0,
      seconds: '8',
      size: '1280x720',
      completed_at: null,
      error: null,
    });
    expect(created.id).toMatch(/^video_/);

    const done = await waitForVideo(created.id);
    expect(done.status).toBe('completed');
    expect(done.progress).toBe(100);
    expect(done.expires_at).toBe((done.completed_at ?? 0) + 3600);

    const video = await client.videos.downloadContent(created.id);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    const mp4 = await probeBytes(Buffer.from(await video.arrayBuffer()));
    expect([mp4.errors, mp4.video?.codec, mp4.durationSeconds]).toEqual([[], 'h264', 8]);
    expect(mp4.video?.displayAspect).toBeCloseTo(16 / 9, 1);
    for (const variant of ['thumbnail', 'spritesheet'] as const) {
      const image = await client.videos.downloadContent(created.id, { variant });
      expect(image.headers.get('content-type')).toBe('image/webp');
      const bytes = Buffer.from(await image.arrayBuffer());
      expect(bytes.toString('latin1', 0, 4) + bytes.toString('latin1', 8, 12)).toBe('RIFFWEBP');
      expect((await probeBytes(bytes)).video?.codec).toBe('webp');
    }

    const remix = await client.videos.remix(created.id, { prompt: 'Mira walks by the sea at dusk' });
    expect(remix).toMatchObject({
      remixed_from_video_id: created.id,
      seconds: '8',
      size: '1280x720',
      status: 'queued',
    });
    expect(remix.id).not.toBe(created.id);
    await waitForVideo(remix.id);

    const page = await client.videos.list();
    expect(page.data.map((v) => v.id)).toEqual(expect.arrayContaining([created.id, remix.id]));

    const deleted = await client.videos.delete(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'video.deleted', deleted: true });
    expect((await apiError(client.videos.retrieve(created.id))).status).toBe(404);
  });

  it('accepts multipart `characters[0][id]` and JSON bodies with input_reference', async () => {
    const characterId = await createCharacter('Juno');
    const form = new FormData();
    form.append('prompt', 'Juno climbs a lighthouse');
    form.append('seconds', '4');
    form.append('characters[0][id]', characterId);
    const multipart = await rawOfficial('/videos', { method: 'POST', body: form });
    expect(multipart.status).toBe(200);

    const json = await rawOfficial('/videos', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'Juno sails home',
        model: 'sora-2-pro-2025-10-06',
        seconds: '12',
        size: '1792x1024',
        input_reference: { image_url: 'https://example.com/ref.png' },
        characters: [{ id: characterId }],
      }),
    });
    expect(json.status).toBe(200);
    expect(json.json).toMatchObject({ model: 'sora-2-pro-2025-10-06', seconds: '12', size: '1792x1024' });
    const ids = [multipart.json.id, json.json.id];
    expect(
      sim
        .ledger()
        .filter((e) => ids.includes(e.jobId))
        .map((e) => e.characterIds),
    ).toEqual([[characterId], [characterId]]);
  });

  it('honours Idempotency-Key: the same key returns the same job and bills once', async () => {
    const body: VideoCreateParams = { prompt: 'a quiet harbour', seconds: '4' };
    const key = 'series/harbour/scene-1/take-1';
    const first = await client.videos.create(body, { headers: { 'Idempotency-Key': key } });
    const second = await client.videos.create(body, { headers: { 'Idempotency-Key': key } });
    expect(second.id).toBe(first.id);
    const entries = sim.ledger().filter((e) => e.idempotencyKey === key);
    expect(entries).toHaveLength(1);
    expect(entries[0].jobId).toBe(first.id);

    // Finding for the adapters: openai 6.x does not send `idempotencyKey` by itself (the client has
    // no idempotency header configured), so the header must be passed explicitly as above.
    const third = await client.videos.create(body, { idempotencyKey: key });
    expect(exchanges.at(-1)?.requestHeaders.get('idempotency-key')).toBeNull();
    expect(third.id).not.toBe(first.id);
  });

  it('refuses a wrong key with 401 invalid_api_key', async () => {
    const stranger = new OpenAI({
      apiKey: 'sk-wrong',
      baseURL: sim.officialBaseUrl,
      maxRetries: 0,
      fetch: recordingFetch,
    });
    const error = await apiError(stranger.videos.list());
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_api_key');
    expect(error.type).toBe('invalid_request_error');
  });

  it('validates create requests like the real API (400 naming the param)', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ seconds: '4' }, 'prompt', 'missing_required_parameter'],
      [{ prompt: 'x', seconds: '5' }, 'seconds', 'invalid_value'],
      [{ prompt: 'x', size: '640x480' }, 'size', 'invalid_value'],
      [{ prompt: 'x', size: '1920x1080' }, 'size', 'invalid_value'], // 1080p is pro only
      [{ prompt: 'x', model: 'dall-e-3' }, 'model', 'invalid_value'],
      [{ prompt: 'x', quality: 'high' }, 'quality', 'unknown_parameter'],
      [{ prompt: 'x', characters: [{ id: 'char_missing' }] }, 'characters', 'character_not_found'],
    ];
    for (const [body, param, code] of cases) {
      const error = await apiError(client.videos.create(body as unknown as VideoCreateParams));
      expect({ status: error.status, param: error.param, code: error.code }).toEqual({ status: 400, param, code });
    }
  });

  it('requires each character to be named in the prompt, and at most two of them', async () => {
    const ada = await createCharacter('Ada');
    const bo = await createCharacter('Bo');
    const cy = await createCharacter('Cy');
    const missing = await apiError(
      client.videos.create({ prompt: 'a robot dances', characters: [{ id: ada }] } as VideoCreateParams),
    );
    expect({ status: missing.status, param: missing.param, code: missing.code }).toEqual({
      status: 400,
      param: 'characters',
      code: 'character_not_in_prompt',
    });
    const tooMany = await apiError(
      client.videos.create({
        prompt: 'Ada, Bo and Cy',
        characters: [{ id: ada }, { id: bo }, { id: cy }],
      } as VideoCreateParams),
    );
    expect(tooMany.code).toBe('too_many_characters');
    const two = await client.videos.create({
      prompt: 'ada and BO play chess',
      characters: [{ id: ada }, { id: bo }],
    } as VideoCreateParams);
    expect(two.status).toBe('queued');
  });

  it('refuses a character clip showing a human likeness', async () => {
    const error = await apiError(
      client.videos.createCharacter({ name: 'Real Person', video: await clipFile('human-anna') }),
    );
    expect({ status: error.status, code: error.code, type: error.type, param: error.param }).toEqual({
      status: 400,
      code: 'human_likeness_not_allowed',
      type: 'invalid_request_error',
      param: 'video',
    });
    const notVideo = await apiError(
      client.videos.createCharacter({ name: 'Blob', video: await toFile(Buffer.from('hello'), 'x.mp4') }),
    );
    expect(notVideo.code).toBe('invalid_file_format');
    const longName = await apiError(
      client.videos.createCharacter({ name: 'x'.repeat(81), video: await clipFile('hero') }),
    );
    expect(longName.param).toBe('name');
  });

  it('answers unknown ids with 404 and unfinished content with 400', async () => {
    expect((await apiError(client.videos.retrieve('video_nope'))).status).toBe(404);
    expect((await apiError(client.videos.getCharacter('char_nope'))).status).toBe(404);
    expect((await apiError(client.videos.delete('video_nope'))).status).toBe(404);
    expect((await apiError(client.videos.remix('video_nope', { prompt: 'x' }))).status).toBe(404);
    sim.setScenario({ jobSeconds: 60 }); // so "not ready yet" cannot race the clock
    const fresh = await client.videos.create({ prompt: 'slow sunrise' });
    const early = await apiError(client.videos.downloadContent(fresh.id));
    expect({ status: early.status, code: early.code }).toEqual({ status: 400, code: 'video_not_ready' });
    const badVariant = await apiError(client.videos.downloadContent(fresh.id, { variant: 'poster' as 'video' }));
    expect(badVariant.param).toBe('variant');
  });

  it('pages the list with cursors (after, limit, order)', async () => {
    sim.reset();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.videos.create({ prompt: `scene ${i}` })).id);

    const first = await client.videos.list({ limit: 2 });
    expect(first.data.map((v) => v.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    expect(first.hasNextPage()).toBe(true);

    const all: string[] = [];
    for await (const video of client.videos.list({ limit: 2 })) all.push(video.id);
    expect(all).toEqual([...ids].reverse());

    const asc = await client.videos.list({ order: 'asc', limit: 3, after: ids[0] });
    expect(asc.data.map((v) => v.id)).toEqual([ids[1], ids[2], ids[3]]);
    const tail = await client.videos.list({ order: 'asc', after: ids[4] });
    expect(tail.data).toEqual([]);
    expect(tail.has_more).toBe(false);
    const bad = await apiError(client.videos.list({ limit: 101 }));
    expect(bad.param).toBe('limit');
  });

  it('validated every response against the OpenAPI file and exercised every route', () => {
    expect(checked).toBeGreaterThan(60);
    expect([...coveredOperations].sort()).toEqual(
      [
        'DELETE /videos/{video_id}',
        'GET /videos',
        'GET /videos/characters/{character_id}',
        'GET /videos/{video_id}',
        'GET /videos/{video_id}/content',
        'POST /videos',
        'POST /videos/characters',
        'POST /videos/{video_id}/remix',
      ].sort(),
    );
  });
});
