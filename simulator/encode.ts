/**
 * Frames to files with ffmpeg: H.264 MP4 for videos and clips, lossless WebP for thumbnails and
 * spritesheets. Every flag that could vary between runs is pinned (bitexact container and encoder,
 * no metadata, one thread, a fixed GOP), so the same frames always give the same bytes with the
 * same ffmpeg build.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMediaTool } from '../common/media-tools';
import type { Frame } from '../common/frames';
import { BITEXACT, rawFramesInput as rawInput } from '../common/raw-frames';

export interface Mp4Options {
  width: number;
  height: number;
  fps: number;
  /** Stored as the `comment` tag (the clip's likeness marker), the only metadata written. */
  comment?: string;
}

/**
 * An H.264 (yuv420p, so even dimensions) MP4 with the `moov` first, as players streaming it want.
 * The MP4 muxer seeks back to write its index, so it goes through a temp file, not a pipe.
 */
export async function encodeMp4(frames: Iterable<Buffer>, options: Mp4Options): Promise<Buffer> {
  const { width, height, fps } = options;
  const out = join(tmpdir(), `sora-sim-${randomUUID()}.mp4`);
  const encoder = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-pix_fmt', 'yuv420p', '-threads', '1'];
  const gop = ['-g', String(fps * 2), '-bf', '0'];
  const tags = options.comment ? ['-metadata', `comment=${options.comment}`] : [];
  try {
    await runMediaTool(
      'ffmpeg',
      [...rawInput(width, height, fps), ...encoder, ...gop, ...BITEXACT, ...tags, '-movflags', '+faststart', '-y', out],
      frames,
    );
    return await readFile(out);
  } finally {
    await rm(out, { force: true });
  }
}

/** One frame as a lossless WebP (VP8L): what the official contract serves thumbnails and spritesheets as. */
export async function encodeWebp(frame: Frame): Promise<Buffer> {
  const args = [...rawInput(frame.width, frame.height, 1), '-frames:v', '1', '-c:v', 'libwebp', '-lossless', '1'];
  const { stdout } = await runMediaTool('ffmpeg', [...args, ...BITEXACT, '-f', 'webp', 'pipe:1'], [frame.data]);
  return stdout;
}
