/**
 * How scenes become one file, decided from their stream headers alone. Scenes whose streams are
 * alike (codec, size, pixel shape and format, frame rate, codec parameters, the same audio) are
 * joined as they are, without re-encoding. Otherwise each is normalised to the first scene's
 * size and frame rate (letterboxed to keep its aspect, silence where it has no audio) by one
 * encoder with one set of settings, so the normalised parts are alike and join the same way; their
 * audio stays PCM until the join encodes it once (AAC parts would each bring their priming delay).
 * Every ffmpeg run is pinned to one thread and bit-exact output: a retried cut makes the same bytes.
 */
import type { MediaLayout } from '../../common/media-probe';
import { BITEXACT, QUIET } from '../../common/raw-frames';

export type VideoLayout = NonNullable<MediaLayout['video']>;

/** A scene's streams, as probeLayout found them (a video stream is required). */
export interface SceneLayout {
  video: VideoLayout;
  audio?: MediaLayout['audio'];
  seconds: number;
}

export interface Size {
  width: number;
  height: number;
}

/** The frame every normalised part gets: the first scene's, in square pixels. */
export interface Target extends Size {
  frameRate: string;
  /** Every part gets an audio track when any scene has one. */
  audio: boolean;
}

export type JoinPlan = { joined: 'concat' } | { joined: 'reencode'; target: Target; because: string };

const SAMPLE_RATE = 48000;
const VIDEO_ENCODER = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-threads', '1'];
const PART_AUDIO = ['-c:a', 'pcm_s16le'];
const AUDIO_ENCODER = ['-c:a', 'aac', '-b:a', '160k', '-flags:a', '+bitexact'];
const MP4 = ['-movflags', '+faststart', '-y'];

/** Where normalised parts are written: QuickTime holds H.264 with PCM, at the frame rate's own timescale. */
export const PART_EXT = '.mov';

/** Rounded to an even number of pixels (yuv420p halves both sides for colour), at least 2. */
export const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

/** As displayed: non-square pixels widened or narrowed to square ones, sides even. */
export function displaySize(video: VideoLayout): Size {
  return { width: even(video.width * video.pixelAspect), height: even(video.height) };
}

/** The largest size of `frame`'s aspect inside `box` (sides even): the picture of a letterboxed frame. */
export function fitInside(frame: Size, box: Size): Size {
  const scale = Math.min(box.width / frame.width, box.height / frame.height);
  return {
    width: Math.min(box.width, even(frame.width * scale)),
    height: Math.min(box.height, even(frame.height * scale)),
  };
}

function difference(first: SceneLayout, other: SceneLayout): string | undefined {
  const fields: Array<keyof VideoLayout> = ['codec', 'width', 'height', 'pixelAspect', 'pixelFormat', 'frameRate'];
  for (const field of fields)
    if (first.video[field] !== other.video[field]) return `${field} ${other.video[field]} vs ${first.video[field]}`;
  if (first.video.codecData !== other.video.codecData) return 'other codec parameters (SPS/PPS)';
  if (!first.audio !== !other.audio) return 'audio in some scenes only';
  if (first.audio && other.audio && JSON.stringify(first.audio) !== JSON.stringify(other.audio))
    return 'other audio parameters';
  return undefined;
}

export function joinPlan(scenes: SceneLayout[]): JoinPlan {
  const [first, ...rest] = scenes;
  for (const [i, other] of rest.entries()) {
    const because = difference(first, other);
    if (because === undefined) continue;
    const { width, height } = displaySize(first.video);
    const target = { width, height, frameRate: first.video.frameRate, audio: scenes.some((s) => !!s.audio) };
    return { joined: 'reencode', target, because: `scene ${i + 2} of the cut differs from the first: ${because}` };
  }
  return { joined: 'concat' };
}

/** ffmpeg arguments that normalise one scene to `target` (a PART_EXT file): letterboxed picture, audio or silence of its length. */
export function normaliseArgs(input: string, scene: SceneLayout, target: Target, output: string): string[] {
  const picture = fitInside(displaySize(scene.video), target);
  const video =
    `[0:v:0]scale=${picture.width}:${picture.height},setsar=1,` +
    `pad=${target.width}:${target.height}:${(target.width - picture.width) / 2}:${(target.height - picture.height) / 2}:color=black,` +
    `fps=${target.frameRate},format=yuv420p[v]`;
  const seconds = scene.seconds.toFixed(6);
  const audio = !target.audio
    ? ''
    : scene.audio
      ? `;[0:a:0]aresample=${SAMPLE_RATE},aformat=sample_fmts=s16:channel_layouts=stereo,apad,atrim=duration=${seconds}[a]`
      : `;anullsrc=r=${SAMPLE_RATE}:cl=stereo,aformat=sample_fmts=s16,atrim=duration=${seconds}[a]`;
  return [
    ...QUIET,
    '-nostdin',
    '-threads',
    '1',
    '-i',
    input,
    '-filter_complex_threads',
    '1',
    '-filter_complex',
    video + audio,
    '-map',
    '[v]',
    ...(target.audio ? ['-map', '[a]', ...PART_AUDIO] : []),
    ...VIDEO_ENCODER,
    ...BITEXACT,
    '-f',
    'mov',
    '-y',
    output,
  ];
}

/** The concat demuxer's list: one `file '<path>'` line per part, quotes escaped. */
export function concatList(paths: string[]): string {
  return paths.map((p) => `file '${p.replace(/'/g, "'\\''")}'\n`).join('');
}

/**
 * ffmpeg arguments that join the listed parts: video copied, audio copied (`copy`, the scenes'
 * own), encoded once (`encode`, the normalised parts' PCM) or absent (`none`).
 */
export function concatArgs(listFile: string, audio: 'copy' | 'encode' | 'none', output: string): string[] {
  const maps = ['-map', '0:v:0', ...(audio === 'none' ? [] : ['-map', '0:a:0'])];
  const codecs = ['-c:v', 'copy', ...(audio === 'copy' ? ['-c:a', 'copy'] : audio === 'encode' ? AUDIO_ENCODER : [])];
  const input = [...QUIET, '-nostdin', '-threads', '1', '-f', 'concat', '-safe', '0', '-i', listFile];
  return [...input, ...maps, ...codecs, ...BITEXACT, ...MP4, output];
}
