/**
 * One cut, outside Temporal: the chosen takes, checked against their sha256, joined into one MP4
 * (plan.ts), verified by decoding it, a poster per scene and the contact sheet; every file stored
 * content-addressed. Nothing here reads a clock or a random number into a file, so the same takes
 * always give the same files: a retried cut finds (and rewrites) the same paths.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { sha256OfFile } from '../../common/file-hash';
import { probeLayout, probeMedia } from '../../common/media-probe';
import { runMediaTool, type MediaToolOptions } from '../../common/media-tools';
import { encodePng, readFrame } from '../../common/raw-frames';
import { NothingToCutError } from '../../workflows/episode-request';
import type { EpisodeFiles, EpisodeRequest, EpisodeScene, StoredMedia } from '../../workflows/types';
import { mediaProblems } from '../media-check';
import { storeContentAddressed } from '../storage';
import { drawContactSheet, type SheetScene } from './contact-sheet';
import { concatArgs, concatList, displaySize, joinPlan, normaliseArgs, PART_EXT, type SceneLayout } from './plan';

/** The episode's duration may differ from the sum of its scenes' by this much (frame-rate rounding, audio priming). */
export const EPISODE_DURATION_TOLERANCE = 0.05;

/** A chosen take whose file is gone, changed since it was stored, or holds no video. */
export class SceneAssetError extends Error {
  constructor(
    readonly index: number,
    problem: string,
  ) {
    super(`scene ${index}: ${problem}`);
    this.name = 'SceneAssetError';
  }
}

/** The joined file is not the episode: it does not decode, or its duration is off. */
export class InvalidEpisodeError extends Error {
  constructor(readonly problems: string[]) {
    super(`the joined episode is not valid: ${problems.join('; ')}`);
    this.name = 'InvalidEpisodeError';
  }
}

export interface CutOptions extends MediaToolOptions {
  /** Where the files go (content-addressed); a work folder is made and removed inside it. */
  dir: string;
  /** Takes are read from this folder only (the worker's stored assets), whatever the request names. */
  assetsDir?: string;
  /** Called at each step (and by the caller's own ticker meanwhile): the activity's heartbeat. */
  progress?: (step: string) => void;
}

type Scene = EpisodeScene & SceneLayout;

export async function cutEpisodeFiles(request: EpisodeRequest, options: CutOptions): Promise<EpisodeFiles> {
  if (!request.scenes.length) throw new NothingToCutError(request.seriesId);
  const progress = options.progress ?? (() => undefined);
  const { signal } = options;
  const store = (body: AsyncIterable<Uint8Array>, ext: string) =>
    storeContentAddressed(options.dir, body, { ext, onChunk: () => progress('storing') });
  const scenes = await checkScenes(request.scenes, options);
  await mkdir(options.dir, { recursive: true });
  const work = await mkdtemp(join(options.dir, '.cut-'));
  try {
    const plan = joinPlan(scenes);
    const first = displaySize(scenes[0].video);
    const frame = plan.joined === 'reencode' ? plan.target : first;
    let parts = scenes.map((s) => s.assetPath);
    if (plan.joined === 'reencode') {
      parts = [];
      for (const [i, scene] of scenes.entries()) {
        progress(`normalising scene ${scene.index}`);
        parts.push(join(work, `part-${i}${PART_EXT}`));
        await runMediaTool('ffmpeg', normaliseArgs(scene.assetPath, scene, plan.target, parts[i]), undefined, {
          signal,
        });
      }
    }
    progress('joining');
    const list = join(work, 'parts.txt');
    await writeFile(list, concatList(parts));
    const joined = join(work, 'episode.mp4');
    const audio =
      plan.joined === 'concat' ? (scenes[0].audio ? 'copy' : 'none') : plan.target.audio ? 'encode' : 'none';
    await runMediaTool('ffmpeg', concatArgs(list, audio, joined), undefined, { signal });

    progress('verifying');
    const expected = scenes.reduce((sum, s) => sum + s.seconds, 0);
    const seconds = await verifyEpisode(joined, expected, options);
    const episode = await store(createReadStream(joined), '.mp4');

    const posters: Array<StoredMedia & { index: number }> = [];
    const sheetScenes: SheetScene[] = [];
    for (const scene of scenes) {
      progress(`poster of scene ${scene.index}`);
      // The middle frame: past any fade-in, and the same frame on every run.
      const still = await readFrame(scene.assetPath, scene.seconds / 2, displaySize(scene.video), { signal });
      const { path, sha256 } = await store(Readable.from([await encodePng(still, { signal })]), '.png');
      posters.push({ index: scene.index, path, sha256 });
      sheetScenes.push({ index: scene.index, take: scene.take, provider: scene.provider, frame: still });
    }
    progress('contact sheet');
    const sheet = drawContactSheet(sheetScenes, frame);
    const contactSheet = await store(Readable.from([await encodePng(sheet, { signal })]), '.png');

    let startSeconds = 0;
    return {
      episode: {
        path: episode.path,
        sha256: episode.sha256,
        bytes: episode.bytes,
        seconds,
        width: frame.width,
        height: frame.height,
        joined: plan.joined,
        scenes: scenes.map((s) => {
          const placed = {
            index: s.index,
            take: s.take,
            provider: s.provider,
            sha256: s.sha256,
            startSeconds,
            seconds: s.seconds,
          };
          startSeconds += s.seconds;
          return placed;
        }),
      },
      contactSheet: { path: contactSheet.path, sha256: contactSheet.sha256, width: sheet.width, height: sheet.height },
      posters,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Each take is the file its sha256 names (nothing swapped under the series), with its streams probed. */
async function checkScenes(scenes: EpisodeScene[], options: CutOptions): Promise<Scene[]> {
  const checked: Scene[] = [];
  for (const scene of scenes) {
    options.progress?.(`checking scene ${scene.index}`);
    if (options.assetsDir && !resolve(scene.assetPath).startsWith(resolve(options.assetsDir) + sep))
      throw new SceneAssetError(scene.index, `${scene.assetPath} is not a stored asset (not in ${options.assetsDir})`);
    const actual = await sha256OfFile(scene.assetPath).catch(() => undefined);
    if (actual === undefined) throw new SceneAssetError(scene.index, `${scene.assetPath} cannot be read`);
    if (actual !== scene.sha256)
      throw new SceneAssetError(scene.index, `${scene.assetPath} has sha256 ${actual}, stored as ${scene.sha256}`);
    const layout = await probeLayout(scene.assetPath, options);
    if (!layout.video) throw new SceneAssetError(scene.index, `${scene.assetPath} holds no video stream`);
    checked.push({ ...scene, video: layout.video, audio: layout.audio, seconds: layout.durationSeconds ?? 0 });
  }
  return checked;
}

/** Decodes the whole episode; its duration must be the scenes' sum within 5 %. Returns the duration. */
async function verifyEpisode(path: string, expectedSeconds: number, options: MediaToolOptions): Promise<number> {
  const probe = await probeMedia(path, options);
  const problems = mediaProblems(probe, {});
  const seconds = probe.durationSeconds ?? 0;
  if (Math.abs(seconds - expectedSeconds) > EPISODE_DURATION_TOLERANCE * expectedSeconds)
    problems.push(`duration ${seconds.toFixed(2)} s, the scenes add up to ${expectedSeconds.toFixed(2)} s`);
  if (problems.length) throw new InvalidEpisodeError(problems);
  return seconds;
}
