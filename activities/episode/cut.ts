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
import { storeContentAddressed, type StoredFile } from '../storage';
import { drawContactSheet, tileFrame, type SheetScene } from './contact-sheet';
import {
  concatArgs,
  concatList,
  displaySize,
  joinPlan,
  normaliseArgs,
  PART_EXT,
  type JoinPlan,
  type SceneLayout,
  type Size,
} from './plan';

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
type Store = (body: AsyncIterable<Uint8Array>, ext: string) => Promise<StoredFile>;

export async function cutEpisodeFiles(request: EpisodeRequest, options: CutOptions): Promise<EpisodeFiles> {
  if (!request.scenes.length) throw new NothingToCutError(request.seriesId);
  const progress = options.progress ?? (() => undefined);
  const store: Store = (body, ext) =>
    storeContentAddressed(options.dir, body, { ext, onChunk: () => progress('storing') });
  const scenes = await checkScenes(request.scenes, options);
  await mkdir(options.dir, { recursive: true });
  const work = await mkdtemp(join(options.dir, '.cut-'));
  try {
    const plan = joinPlan(scenes);
    const frame = plan.joined === 'reencode' ? plan.target : displaySize(scenes[0].video);
    const joined = await joinParts(scenes, plan, work, options);
    progress('verifying');
    const seconds = await verifyEpisode(joined, sum(scenes.map((s) => s.seconds)), options);
    const episode = await store(createReadStream(joined), '.mp4');
    const { posters, contactSheet } = await stills(scenes, frame, store, options);
    return {
      episode: {
        ...stored(episode),
        bytes: episode.bytes,
        seconds,
        width: frame.width,
        height: frame.height,
        joined: plan.joined,
        scenes: scenes.map((s, i) => ({
          index: s.index,
          take: s.take,
          provider: s.provider,
          sha256: s.sha256,
          startSeconds: sum(scenes.slice(0, i).map((before) => before.seconds)),
          seconds: s.seconds,
        })),
      },
      contactSheet,
      posters,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);
const stored = ({ path, sha256 }: StoredFile): StoredMedia => ({ path, sha256 });

/** The scenes (or their normalised parts) joined into `<work>/episode.mp4`. */
async function joinParts(scenes: Scene[], plan: JoinPlan, work: string, options: CutOptions): Promise<string> {
  const { signal } = options;
  let parts = scenes.map((s) => s.assetPath);
  if (plan.joined === 'reencode') {
    parts = [];
    for (const [i, scene] of scenes.entries()) {
      options.progress?.(`normalising scene ${scene.index}`);
      parts.push(join(work, `part-${i}${PART_EXT}`));
      await runMediaTool('ffmpeg', normaliseArgs(scene.assetPath, scene, plan.target, parts[i]), undefined, { signal });
    }
  }
  options.progress?.('joining');
  const list = join(work, 'parts.txt');
  await writeFile(list, concatList(parts));
  const joined = join(work, 'episode.mp4');
  const audio = plan.joined === 'concat' ? (scenes[0].audio ? 'copy' : 'none') : plan.target.audio ? 'encode' : 'none';
  await runMediaTool('ffmpeg', concatArgs(list, audio, joined), undefined, { signal });
  return joined;
}

/** A poster per scene (its middle frame, past any fade-in, at its own size) and the contact sheet of them. */
async function stills(
  scenes: Scene[],
  frame: Size,
  store: Store,
  options: CutOptions,
): Promise<Pick<EpisodeFiles, 'posters' | 'contactSheet'>> {
  const { signal } = options;
  const posters: EpisodeFiles['posters'] = [];
  const tiles: SheetScene[] = [];
  for (const scene of scenes) {
    options.progress?.(`poster of scene ${scene.index}`);
    const still = await readFrame(scene.assetPath, scene.seconds / 2, displaySize(scene.video), { signal });
    posters.push({
      index: scene.index,
      ...stored(await store(Readable.from([await encodePng(still, { signal })]), '.png')),
    });
    // Kept at tile size only: a long series of large frames would not fit in memory.
    tiles.push({ index: scene.index, take: scene.take, provider: scene.provider, frame: tileFrame(still, frame) });
  }
  options.progress?.('contact sheet');
  const sheet = drawContactSheet(tiles, frame);
  const file = await store(Readable.from([await encodePng(sheet, { signal })]), '.png');
  return { posters, contactSheet: { ...stored(file), width: sheet.width, height: sheet.height } };
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
