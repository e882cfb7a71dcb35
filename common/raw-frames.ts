/**
 * Raw RGB frames in and out of ffmpeg, byte for byte repeatable: the arguments that feed frames to
 * ffmpeg, the flags that pin its output (no version strings, no metadata), a frame of a video read
 * back as a Frame, and a Frame written as PNG. The simulator renders its media with these and the
 * episode cut its posters and contact sheet.
 */
import { Frame } from './frames';
import { runMediaTool, type MediaToolOptions } from './media-tools';

/** Container and encoders write nothing that varies between runs (no version strings, no metadata). */
export const BITEXACT = ['-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1'];

/** No banner, errors only. */
export const QUIET = ['-hide_banner', '-loglevel', 'error'];

/** Input arguments for `width`x`height` RGB frames on stdin at `fps`. */
export function rawFramesInput(width: number, height: number, fps: number): string[] {
  return [
    ...QUIET,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${width}x${height}`,
    '-r',
    String(fps),
    '-i',
    'pipe:0',
  ];
}

/** ffmpeg decoded no frame where one was asked for (past the end, or an undecodable file). */
export class NoFrameError extends Error {
  constructor(
    readonly path: string,
    readonly atSeconds: number,
  ) {
    super(`no frame at ${atSeconds.toFixed(3)} s in ${path}`);
    this.name = 'NoFrameError';
  }
}

/** The frame shown at `atSeconds` (an exact seek: decoded up to there), scaled to `width`x`height`. */
export async function readFrame(
  path: string,
  atSeconds: number,
  size: { width: number; height: number },
  options: MediaToolOptions = {},
): Promise<Frame> {
  const { width, height } = size;
  const args = [...QUIET, '-nostdin', '-threads', '1', '-ss', atSeconds.toFixed(3), '-i', path, '-frames:v', '1'];
  const output = ['-vf', `scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const { stdout } = await runMediaTool('ffmpeg', [...args, ...output], undefined, options);
  if (stdout.length !== width * height * 3) throw new NoFrameError(path, atSeconds);
  return new Frame(width, height, stdout);
}

/** One frame as a PNG (lossless, no timestamp or text chunks). */
export async function encodePng(frame: Frame, options: MediaToolOptions = {}): Promise<Buffer> {
  const args = [...rawFramesInput(frame.width, frame.height, 1), '-frames:v', '1', '-c:v', 'png', ...BITEXACT];
  const { stdout } = await runMediaTool('ffmpeg', [...args, '-f', 'image2pipe', 'pipe:1'], [frame.data], options);
  return stdout;
}
