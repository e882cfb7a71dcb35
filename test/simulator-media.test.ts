/**
 * The simulator's building blocks: the media it serves (decoded by the real ffprobe, over real
 * HTTP), form parsing, billing rules, seeded randomness, CLI flags.
 */
import { FPS, renderSize, videoSubject } from '../simulator/media';
import type { Job } from '../simulator/jobs';
import { JobStore, viewJob } from '../simulator/jobs';
import { Ledger } from '../simulator/ledger';
import { parseCliOptions } from '../simulator/main';
import { expandBracketFields, parseMultipart } from '../simulator/multipart';
import { officialPriceUsd } from '../simulator/pricing';
import { deriveStream, IdMinter, SeededRandom } from '../simulator/prng';
import type { RunningSimulator } from '../simulator/server';
import { download, probeBytes, sha256 } from './helpers/media';
import { callSimulator, SIM_TEST_KEYS, simulatorsPerTest } from './helpers/simulator-calls';

const start = simulatorsPerTest({ jobSeconds: 0.05, jitter: 0 });
const officialAuth = { headers: { authorization: `Bearer ${SIM_TEST_KEYS.official}` } };

/** Submits a job and waits for it; answers the URL its video downloads from. */
async function finishedVideo(
  sim: RunningSimulator,
  order: { contract: 'official' | 'relay-v1'; seconds: number; size?: string; model?: string; prompt?: string },
): Promise<{ id: string; url: string }> {
  const prompt = order.prompt ?? `a lighthouse at night, ${order.size ?? ''} ${order.seconds}s`;
  const official = order.contract === 'official';
  const created = official
    ? await callSimulator(sim, 'POST', '/v1/videos', {
        body: { prompt, seconds: String(order.seconds), size: order.size, model: order.model },
      })
    : await callSimulator(sim, 'POST', '/relay/sora/generate', { body: { prompt, duration: order.seconds } });
  expect(created.status).toBe(200);
  const id = (official ? created.json.id : created.json.task_id) as string;
  const statusPath = official ? `/v1/videos/${id}` : `/relay/sora/tasks/${id}`;
  for (let polls = 0; ; polls++) {
    const status = await callSimulator(sim, 'GET', statusPath);
    if (status.json.status === 'completed') break;
    if (polls > 200) throw new Error(`${id} still ${String(status.json.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { id, url: official ? `${sim.url}/v1/videos/${id}/content` : `${sim.url}/relay/files/${id}.mp4` };
}

const init = (url: string) => (url.includes('/v1/') ? officialAuth : undefined);

describe('media', () => {
  const orders = [
    { contract: 'official', model: 'sora-2', size: '720x1280', seconds: 4 },
    { contract: 'official', model: 'sora-2', size: '1280x720', seconds: 8 },
    { contract: 'official', model: 'sora-2-pro', size: '1024x1792', seconds: 12 },
    { contract: 'official', model: 'sora-2-pro', size: '1792x1024', seconds: 4 },
    { contract: 'official', model: 'sora-2-pro', size: '1920x1080', seconds: 8 },
    { contract: 'official', model: 'sora-2-pro', size: '1080x1920', seconds: 4 },
    { contract: 'relay-v1', size: '720x1280', seconds: 10 },
    { contract: 'relay-v1', size: '720x1280', seconds: 15 },
  ] as const;

  it('serves, on every contract and size, an H.264 MP4 that decodes to the ordered duration and aspect', async () => {
    const sim = await start();
    for (const order of orders) {
      const { url } = await finishedVideo(sim, order);
      const { type, bytes } = await download(url, init(url));
      expect(type).toBe('video/mp4');
      const probe = await probeBytes(bytes);
      const [w, h] = order.size.split('x').map(Number);
      expect({ order, errors: probe.errors, codec: probe.video?.codec }).toEqual({ order, errors: [], codec: 'h264' });
      expect(probe.durationSeconds).toBeCloseTo(order.seconds, 2);
      expect(probe.video!.decodedFrames).toBe(order.seconds * FPS);
      expect(Math.abs(probe.video!.displayAspect / (w / h) - 1)).toBeLessThan(0.02);
      expect(Math.max(probe.video!.width, probe.video!.height)).toBe(320); // small: a low resolution
      expect(bytes.length).toBeLessThan(100_000);
    }
  });

  it('gives the same job the same bytes (a fresh simulator with the same seed too), and another job others', async () => {
    const sims = [await start({ seed: 7 }), await start({ seed: 7 })];
    const hashes: string[][] = [];
    for (const sim of sims) {
      const first = await finishedVideo(sim, { contract: 'official', size: '1280x720', seconds: 4, prompt: 'Mira' });
      const second = await finishedVideo(sim, { contract: 'relay-v1', seconds: 10, prompt: 'Mira' });
      const third = await finishedVideo(sim, { contract: 'official', size: '1280x720', seconds: 4, prompt: 'Mira' });
      hashes.push(
        await Promise.all(
          [first, first, second, third].map(async ({ url }) => sha256((await download(url, init(url))).bytes)),
        ),
      );
    }
    const [a] = hashes;
    expect(a[0]).toBe(a[1]);
    expect(new Set([a[0], a[2], a[3]]).size).toBe(3); // same prompt, other job: other bytes
    expect(hashes[1]).toEqual(a); // rendered again, not cached: the encoder is pinned
    // The second download of a job came from the cache: one render per job.
    expect(sims[0].mediaStats()).toMatchObject({ renders: 3, cacheHits: 1 });
  });

  it('makes thumbnails and spritesheets that decode as WebP images of the video’s shape', async () => {
    const sim = await start();
    const { url } = await finishedVideo(sim, { contract: 'official', size: '1280x720', seconds: 8 });
    for (const [variant, width, height] of [
      ['thumbnail', 160, 90],
      ['spritesheet', 320, 45],
    ] as const) {
      const { type, bytes } = await download(`${url}?variant=${variant}`, officialAuth);
      expect(type).toBe('image/webp'); // as the OpenAPI file documents
      const probe = await probeBytes(bytes);
      expect(probe.errors).toEqual([]);
      expect(probe.video).toMatchObject({ codec: 'webp', width, height, decodedFrames: 1 });
    }
  });

  it('serves source clips as real 3 s portrait clips; only human* names carry the likeness marker', async () => {
    const sim = await start();
    const hero = (await download(`${sim.url}/clips/hero.mp4`)).bytes;
    const human = (await download(`${sim.url}/clips/human-anna.mp4`)).bytes;
    for (const clip of [hero, human]) {
      const probe = await probeBytes(clip);
      expect([probe.errors, probe.video?.codec, probe.durationSeconds]).toEqual([[], 'h264', 3]);
      expect(probe.video?.displayAspect).toBeCloseTo(9 / 16, 2);
    }
    expect(human.includes('HUMAN_LIKENESS')).toBe(true);
    expect(hero.includes('HUMAN_LIKENESS')).toBe(false);
  });

  it('shows the scene and take a sora-series key names (else the job id), the contract and the cast by name', () => {
    const job: Job = {
      id: 'task_0007abcdef',
      contract: 'relay-v1',
      prompt: '@char_0001 waves',
      seconds: 10,
      size: '720x1280',
      createdAtMs: 0,
      idempotencyKey: 'series/harbor-tales/scene-3/take-2',
      characterIds: ['char_0001', 'char_gone'],
      remixedFromId: null,
      durationMs: 1,
      outcome: 'succeed',
      deleted: false,
    };
    const names: Record<string, string> = { char_0001: 'Mira' };
    expect(videoSubject(job, (id) => names[id])).toEqual({
      title: 'SCENE 3 TAKE 2',
      jobId: 'task_0007abcdef',
      prompt: '@char_0001 waves',
      source: 'relay-v1',
      cast: ['Mira', 'char_gone'],
      seconds: 10,
      size: '720x1280',
    });
    const { idempotencyKey: _key, ...unkeyed } = job;
    expect(videoSubject({ ...unkeyed, contract: 'official', model: 'sora-2-pro' }, () => undefined)).toMatchObject({
      title: 'task_0007abcdef',
      source: 'official sora-2-pro',
    });
  });

  it('renders at a low resolution in the ordered aspect, both sides even', () => {
    expect(renderSize('1280x720')).toEqual({ width: 320, height: 180 });
    expect(renderSize('720x1280')).toEqual({ width: 180, height: 320 });
    expect(renderSize('1024x1792')).toEqual({ width: 182, height: 320 });
    expect(renderSize('1792x1024', 80)).toEqual({ width: 80, height: 46 });
    expect(renderSize('1280x720', 80, 1)).toEqual({ width: 80, height: 45 }); // stills need no even sides
  });
});

describe('multipart forms', () => {
  function form(parts: Array<[string, string] | [string, Buffer, string]>): { body: Buffer; contentType: string } {
    const boundary = 'sim-test-boundary';
    const chunks = parts.map((part) => {
      const disposition =
        part.length === 3 ? `form-data; name="${part[0]}"; filename="${part[2]}"` : `form-data; name="${part[0]}"`;
      const type = part.length === 3 ? 'Content-Type: video/mp4\r\n' : '';
      return Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
        Buffer.from(part[1]),
        Buffer.from('\r\n'),
      ]);
    });
    return {
      body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]),
      contentType: `multipart/form-data; boundary=${boundary}`,
    };
  }

  it('expands bracket names in both conventions (indexed and the SDK’s `[]`)', () => {
    const { body, contentType } = form([
      ['prompt', 'Ada and Bo'],
      ['characters[][id]', 'char_a'],
      ['characters[][id]', 'char_b'],
      ['refs[0][id]', 'x'],
      ['refs[1][id]', 'y'],
      ['input_reference[image_url]', 'https://example.com/a.png'],
      ['empty', ''],
    ]);
    const fields = expandBracketFields(parseMultipart(body, contentType));
    expect(JSON.parse(JSON.stringify(fields))).toEqual({
      prompt: 'Ada and Bo',
      characters: [{ id: 'char_a' }, { id: 'char_b' }],
      refs: [{ id: 'x' }, { id: 'y' }],
      input_reference: { image_url: 'https://example.com/a.png' },
      empty: '',
    });
  });

  it('keeps binary file parts intact, even when they contain CRLF and dashes', () => {
    const data = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]), // an MP4's first bytes
      Buffer.from('\r\n--sim-test-boundar\r\n'),
      Buffer.from([0, 255, 13, 10]),
    ]);
    const { body, contentType } = form([
      ['video', data, 'hero.mp4'],
      ['name', 'Hero'],
    ]);
    const [video, name] = parseMultipart(body, contentType);
    expect(typeof video.value === 'object' && video.value.data.equals(data)).toBe(true);
    expect(name.value).toBe('Hero');
  });

  it('refuses prototype-polluting names', () => {
    const { body, contentType } = form([['__proto__[polluted]', 'yes']]);
    expect(() => expandBracketFields(parseMultipart(body, contentType))).toThrow(/Invalid field name/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('billing and progression rules', () => {
  it('prices official jobs per second by model and size', () => {
    expect(officialPriceUsd('sora-2', '720x1280', 12)).toBe(1.2);
    expect(officialPriceUsd('sora-2-2025-12-08', '1792x1024', 4)).toBe(0.4);
    expect(officialPriceUsd('sora-2-pro-2025-10-06', '720x1280', 8)).toBe(2.4);
    expect(officialPriceUsd('sora-2-pro', '1792x1024', 16)).toBe(8);
    expect(officialPriceUsd('sora-2-pro', '1080x1920', 20)).toBe(14);
  });

  it('bills processing_error failures at 0 and moderation failures in full', () => {
    let now = 1_000_000;
    const jobs = new JobStore(new IdMinter(1), deriveStream(1, 'durations'));
    const ledger = new Ledger(jobs, () => now);
    const options = { nowMs: now, jobSeconds: 10, jitter: 0 };
    const draft = { prompt: 'p', seconds: 10, size: '720x1280', characterIds: [] };
    const overloaded = jobs.create('relay-v1', draft, { ...options, outcome: 'processing_error' });
    const blocked = jobs.create('relay-v1', draft, { ...options, outcome: 'moderation_blocked' });
    ledger.record(overloaded, 0.12);
    ledger.record(blocked, 0.12);
    expect(ledger.entries().map((e) => [e.status, e.billedUsd])).toEqual([
      ['queued', 0.12],
      ['queued', 0.12],
    ]);
    now += 5_000;
    expect(viewJob(overloaded, now).error?.code).toBe('processing_error');
    expect(ledger.entries().map((e) => [e.status, e.billedUsd])).toEqual([
      ['failed', 0],
      ['failed', 0.12],
    ]);
  });
});

describe('seeded randomness', () => {
  it('repeats under a seed and keeps purposes independent', () => {
    const a = new SeededRandom(9);
    const b = new SeededRandom(9);
    const draws = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(draws);
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(draws).size).toBe(100);
    expect(deriveStream(9, 'ids').next()).not.toBe(deriveStream(9, 'durations').next());
    const ids = new IdMinter(3);
    expect(
      [ids.mint('video'), ids.mint('task'), ids.mint('video')].map(
        (id) => id.split('_')[0] + '_' + id.split('_')[1].slice(0, 4),
      ),
    ).toEqual(['video_0001', 'task_0001', 'video_0002']);
  });
});

describe('CLI options', () => {
  it('reads flags and takes keys from the environment only', () => {
    const options = parseCliOptions(['--port', '7070', '--seed', '3', '--job-seconds', '0.5'], {
      SIM_OFFICIAL_KEY: 'sk-o',
    });
    expect(options).toMatchObject({
      port: 7070,
      host: '127.0.0.1',
      seed: 3,
      jobSeconds: 0.5,
      keys: { official: 'sk-o', relay: 'sk-sim-relay' },
    });
    expect(() => parseCliOptions(['--official-key', 'x'], {})).toThrow();
    expect(() => parseCliOptions(['--port', 'abc'], {})).toThrow(/--port/);
  });
});
