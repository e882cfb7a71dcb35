/**
 * Reference stills as Kling's element endpoint takes them: Base64 in the body (no public URL of
 * the worker needed), jpg/png, at most 10 MB, at least 300 px a side, aspect within 1:2.5-2.5:1
 * (kling.md §2). Stills from a small clip are scaled up to the minimum rather than refused.
 */
import { readFile } from 'node:fs/promises';
import { runMediaTool } from '../../common/media-tools';
import { ProviderError } from './errors';
import type { LocalFile } from './provider';

export const KLING_IMAGE_MIN_SIDE = 300;
export const KLING_IMAGE_MAX_BYTES = 10 * 1024 * 1024;
export const KLING_IMAGE_MAX_RATIO = 2.5;

/** Width and height from a PNG's IHDR chunk, or undefined for anything that is not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = '89504e470d0a1a0a';
  if (bytes.length < 24 || bytes.subarray(0, 8).toString('hex') !== signature) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** The still as Base64 PNG within Kling's limits; throws an `invalid` ProviderError naming what is wrong. */
export async function klingStill(provider: string, still: LocalFile): Promise<string> {
  let bytes: Buffer = await readFile(still.path);
  const refuse = (problem: string) =>
    new ProviderError({
      kind: 'invalid',
      code: 'reference_image_unusable',
      provider,
      message: `${provider}: reference still ${still.sha256.slice(0, 12)} ${problem}`,
    });
  const size = pngSize(bytes);
  if (!size) throw refuse('is not a PNG (the stills are made by ffmpeg as PNG)');
  const ratio = Math.max(size.width, size.height) / Math.min(size.width, size.height);
  if (ratio > KLING_IMAGE_MAX_RATIO)
    throw refuse(`is ${size.width}x${size.height}: Kling takes aspect ratios up to 1:${KLING_IMAGE_MAX_RATIO}`);
  if (Math.min(size.width, size.height) < KLING_IMAGE_MIN_SIDE) {
    // Scale the short side to the minimum (long side even), bit-exact so a retry sends the same bytes.
    const scale = size.width <= size.height ? `${KLING_IMAGE_MIN_SIDE}:-2` : `-2:${KLING_IMAGE_MIN_SIDE}`;
    const { stdout } = await runMediaTool('ffmpeg', [
      ...['-v', 'error', '-threads', '1', '-i', still.path, '-vf', `scale=${scale}:flags=lanczos`],
      ...['-frames:v', '1', '-fflags', '+bitexact', '-f', 'image2pipe', '-c:v', 'png', '-'],
    ]);
    bytes = stdout;
  }
  if (bytes.length > KLING_IMAGE_MAX_BYTES) throw refuse(`is ${bytes.length} bytes, over Kling's 10 MB`);
  return bytes.toString('base64');
}
