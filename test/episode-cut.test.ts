/**
 * The cut without Temporal, on real media through the real ffmpeg and ffprobe: which scenes join
 * as they are and which are normalised, the shared id hash, the contact sheet's grid, a retried
 * cut's identical files, letterboxed sizes and audio. test/episode.test.ts runs it in series.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { cutEpisodeFiles, SceneAssetError } from '../activities/episode/cut';
import { episodeActivities } from '../activities/episode/activities';
import { contactSheetLayout } from '../activities/episode/contact-sheet';
import { joinPlan, type SceneLayout } from '../activities/episode/plan';
import type { ActivityDeps } from '../activities/deps';
import { probeLayout, probeMedia } from '../common/media-probe';
import { runMediaTool } from '../common/media-tools';
import { MediaRenderer } from '../simulator/media';
import { cutKey, episodeRequestOf } from '../workflows/episode-request';
import { sha256Hex } from '../workflows/sha256';
import type { EpisodeFiles, EpisodeRequest, EpisodeScene, SceneResult } from '../workflows/types';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
/** Width and height from a PNG's IHDR chunk. */
const pngSize = (bytes: Buffer) => ({ width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) });

let dir: string;
const renderer = new MediaRenderer();
let serial = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'episode-cut-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function saved(bytes: Buffer, index: number, take = 1, provider = 'relay'): Promise<EpisodeScene> {
  const assetPath = join(dir, `scene-${++serial}.mp4`);
  await writeFile(assetPath, bytes);
  return { index, take, provider, assetPath, sha256: sha256(bytes) };
}

/** A simulator video, as a scene's take. */
function simulated(index: number, size: string, seconds: number, take = 1): Promise<EpisodeScene> {
  return renderer
    .video({
      title: `SCENE ${index} TAKE ${take}`,
      jobId: `job_${index}_${take}_${size}`,
      prompt: `@character scene ${index} by the harbor`,
      source: 'relay-v1',
      cast: ['Mira'],
      seconds,
      size,
    })
    .then((bytes) => saved(bytes, index, take));
}

/** A test pattern with (or without) a tone, from ffmpeg's own sources. */
async function withTone(index: number, size: string, seconds: number, tone: boolean): Promise<EpisodeScene> {
  const out = join(dir, `tone-${++serial}.mp4`);
  const inputs = ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=24:duration=${seconds}`];
  if (tone) inputs.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`);
  await runMediaTool('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    ...inputs,
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    ...(tone ? ['-c:a', 'aac'] : []),
    '-y',
    out,
  ]);
  return saved(await readFile(out), index);
}

const request = (scenes: EpisodeScene[]): EpisodeRequest => ({ seriesId: 'series/cut-test', scenes });
const outDir = () => mkdtemp(join(dir, 'out-'));

describe('what a cut is made of', () => {
  test('sha256Hex (for workflow ids) is SHA-256', () => {
    for (const text of ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'x'.repeat(1000), 'Mira ✓ 🎬'])
      expect(sha256Hex(text)).toBe(sha256(text));
  });

  test('the chosen take of every completed scene, in scene order; the key names exactly those takes', () => {
    const take = (t: number, sha: string, review?: 'approve' | 'reject') => ({
      take: t,
      provider: 'relay',
      outcome: 'completed' as const,
      costUsd: 0.1,
      assetPath: `/a/${sha}.mp4`,
      sha256: sha,
      ...(review ? { review: { verdict: review } } : {}),
    });
    const scene = (index: number, takes: SceneResult['takes'], status: SceneResult['status'] = 'completed') =>
      ({ index, status, costUsd: 0, takes }) as SceneResult;
    const results = [
      scene(3, [take(1, 'c1')]),
      scene(1, [take(1, 'a1', 'approve'), take(2, 'a2')]),
      scene(2, [], 'rejected'),
    ];
    const cut = episodeRequestOf('series/x', results);
    expect(cut.scenes.map((s) => [s.index, s.take, s.sha256])).toEqual([
      [1, 1, 'a1'],
      [3, 1, 'c1'],
    ]);
    expect(cutKey(cut.scenes)).toMatch(/^[0-9a-f]{16}$/);
    expect(cutKey(episodeRequestOf('series/x', [...results].reverse()).scenes)).toBe(cutKey(cut.scenes));
    const retaken = episodeRequestOf('series/x', [scene(1, [take(1, 'a1'), take(2, 'a2', 'approve')]), results[0]]);
    expect(cutKey(retaken.scenes)).not.toBe(cutKey(cut.scenes));
  });

  test('alike scenes join as they are; a size, frame rate or audio of their own means normalising', () => {
    const video = {
      codec: 'h264',
      width: 180,
      height: 320,
      pixelAspect: 1,
      pixelFormat: 'yuv420p',
      frameRate: '4/1',
      codecData: 'x',
    };
    const scene = (changes: Partial<typeof video> = {}, audio?: SceneLayout['audio']): SceneLayout => ({
      video: { ...video, ...changes },
      ...(audio ? { audio } : {}),
      seconds: 10,
    });
    expect(joinPlan([scene(), scene(), scene()])).toEqual({ joined: 'concat' });
    expect(joinPlan([scene(), scene({ width: 320, height: 180 })])).toMatchObject({
      joined: 'reencode',
      target: { width: 180, height: 320, frameRate: '4/1', audio: false },
      because: 'scene 2 of the cut differs from the first: width 320 vs 180',
    });
    expect(joinPlan([scene(), scene({ frameRate: '24/1' })])).toMatchObject({ joined: 'reencode' });
    expect(joinPlan([scene(), scene({ codecData: 'y' })])).toMatchObject({
      because: expect.stringContaining('codec parameters'),
    });
    const aac = { codec: 'aac', sampleRate: 48000, channels: 2, codecData: 'a' };
    expect(joinPlan([scene({}, aac), scene({}, aac)])).toEqual({ joined: 'concat' });
    expect(joinPlan([scene(), scene({}, aac)])).toMatchObject({ joined: 'reencode', target: { audio: true } });
  });

  test('the contact sheet grid: tiles of the episode shape, as many columns as fit 1280 px', () => {
    expect(contactSheetLayout(3, { width: 180, height: 320 })).toEqual({
      tile: { width: 180, height: 320 },
      columns: 3,
      rows: 1,
      width: 3 * 188 + 8,
      height: 320 + 40 + 16,
    });
    expect(contactSheetLayout(8, { width: 180, height: 320 })).toMatchObject({ columns: 6, rows: 2, width: 1136 });
    expect(contactSheetLayout(5, { width: 1280, height: 720 })).toMatchObject({
      tile: { width: 320, height: 180 },
      columns: 3,
      rows: 2,
    });
  });
});

describe('cutting real media', () => {
  test('same-size scenes: joined without re-encoding, decodes, the sum of the scenes; posters and sheet are PNGs', async () => {
    const scenes = [
      await simulated(1, '720x1280', 10),
      await simulated(2, '720x1280', 5),
      await simulated(3, '720x1280', 10),
    ];
    const files = await cutEpisodeFiles(request(scenes), { dir: await outDir() });
    expect(files.episode).toMatchObject({ joined: 'concat', width: 180, height: 320 });
    expect(files.episode.seconds).toBeCloseTo(25, 1);
    expect(files.episode.scenes.map((s) => [s.index, s.startSeconds, s.seconds])).toEqual([
      [1, 0, 10],
      [2, 10, 5],
      [3, 15, 10],
    ]);
    const probe = await probeMedia(files.episode.path);
    expect(probe.errors).toEqual([]);
    expect(probe.video).toMatchObject({ codec: 'h264', width: 180, height: 320, decodedFrames: 100 });
    expect(sha256(await readFile(files.episode.path))).toBe(files.episode.sha256);
    expect(files.episode.path.endsWith(`${files.episode.sha256}.mp4`)).toBe(true);

    const sheet = await readFile(files.contactSheet.path);
    expect(sheet.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(pngSize(sheet)).toEqual({ width: 572, height: 376 });
    expect(files.posters.map((p) => p.index)).toEqual([1, 2, 3]);
    for (const poster of files.posters) {
      const png = await readFile(poster.path);
      expect([sha256(png), pngSize(png)]).toEqual([poster.sha256, { width: 180, height: 320 }]);
    }
  });

  test('a retried cut (the activity run again, its first files gone) makes the same files; takes come from the assets only', async () => {
    const dataDir = await outDir();
    const deps = { dataDir, logger: pino({ level: 'silent' }) } as unknown as ActivityDeps;
    const { cutEpisode } = episodeActivities(deps);
    const scenes: EpisodeScene[] = [];
    for (const scene of [await simulated(1, '720x1280', 10), await simulated(2, '1280x720', 10)]) {
      const assetPath = join(dataDir, 'assets', `${scene.sha256}.mp4`);
      await mkdir(join(dataDir, 'assets'), { recursive: true });
      await copyFile(scene.assetPath, assetPath);
      scenes.push({ ...scene, assetPath });
    }
    const first: EpisodeFiles = await new MockActivityEnvironment({ attempt: 1 }).run(cutEpisode, request(scenes));
    await rm(join(dataDir, 'episodes'), { recursive: true });
    const second: EpisodeFiles = await new MockActivityEnvironment({ attempt: 2 }).run(cutEpisode, request(scenes));
    const files = (f: EpisodeFiles) => [f.episode, f.contactSheet, ...f.posters].map((m) => [m.path, m.sha256]);
    expect(files(second)).toEqual(files(first));
    expect(first.episode.joined).toBe('reencode');
    for (const [path, hash] of files(second)) expect(sha256(await readFile(path))).toBe(hash);

    const outside = { ...scenes[0], assetPath: scenes[0].assetPath.replace('/assets/', '/') };
    await copyFile(scenes[0].assetPath, outside.assetPath);
    await expect(new MockActivityEnvironment().run(cutEpisode, request([outside]))).rejects.toMatchObject({
      type: 'SceneAssetUnusable',
      nonRetryable: true,
      message: expect.stringContaining('is not a stored asset'),
    });
  });

  test('scenes of other sizes are letterboxed to the first one; audio where some scenes have none becomes silence', async () => {
    const scenes = [
      await withTone(1, '320x180', 2, true),
      await withTone(2, '180x320', 3, false),
      await withTone(3, '640x360', 2, true),
    ];
    const files = await cutEpisodeFiles(request(scenes), { dir: await outDir() });
    expect(files.episode).toMatchObject({ joined: 'reencode', width: 320, height: 180 });
    expect(Math.abs(files.episode.seconds - 7) / 7).toBeLessThan(0.05);
    const layout = await probeLayout(files.episode.path);
    expect(layout.video).toMatchObject({ width: 320, height: 180, frameRate: '24/1' });
    expect(layout.audio).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 2 });
    expect((await probeMedia(files.episode.path)).errors).toEqual([]);
    // Each poster has its own scene's size; the sheet's tiles the episode's.
    expect(await Promise.all(files.posters.map(async (p) => pngSize(await readFile(p.path))))).toEqual([
      { width: 320, height: 180 },
      { width: 180, height: 320 },
      { width: 640, height: 360 },
    ]);
    const { width, height } = contactSheetLayout(3, { width: 320, height: 180 });
    expect(pngSize(await readFile(files.contactSheet.path))).toEqual({ width, height });
    expect(files.contactSheet).toMatchObject({ width, height });
    if (process.env.KEEP_SHEET) await writeFile(process.env.KEEP_SHEET, await readFile(files.contactSheet.path));
  });

  test('a take whose file changed since it was stored is refused by name', async () => {
    const scene = await simulated(1, '720x1280', 10);
    await writeFile(scene.assetPath, Buffer.from('not the stored video'));
    await expect(cutEpisodeFiles(request([scene]), { dir: await outDir() })).rejects.toThrow(SceneAssetError);
  });
});
