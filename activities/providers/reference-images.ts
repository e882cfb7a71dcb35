/**
 * Reference stills made fit for a provider's image limits before a request spends anything:
 * Ark takes 300-6000 px a side and an aspect of 0.4-2.5 (seedance.md §6). A still outside the
 * size range is scaled (a small clip's frames upscaled, a huge one's reduced) by ffmpeg and stored
 * content-addressed beside the original, so every take reuses one copy and a public mirror of the
 * stills directory serves it too.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { runMediaTool } from '../../common/media-tools';
import { pngSize } from '../../common/png-size';
import { storeContentAddressed } from '../storage';
import type { LocalFile } from './provider';

export interface ImageLimits {
  minSide: number;
  maxSide: number;
  minAspect: number;
  maxAspect: number;
  maxBytes: number;
}

/** An image no scaling can make fit (its aspect), or a file that is not the PNG a still should be. */
export class ReferenceImageError extends Error {
  override name = 'ReferenceImageError';
}

/** The still itself when it fits, else a scaled copy that does; the bytes are returned for data URIs. */
export async function fitReferenceImage(still: LocalFile, limits: ImageLimits): Promise<LocalFile & { bytes: Buffer }> {
  const bytes = await readFile(still.path);
  const size = pngSize(bytes);
  if (!size) throw new ReferenceImageError(`reference still ${still.sha256.slice(0, 12)} is not a PNG`);
  const aspect = size.width / size.height;
  if (aspect < limits.minAspect || aspect > limits.maxAspect)
    throw new ReferenceImageError(
      `reference still ${size.width}x${size.height} has aspect ${aspect.toFixed(2)}, outside ${limits.minAspect}-${limits.maxAspect}; use a character clip closer to portrait or landscape`,
    );
  const short = Math.min(size.width, size.height);
  const long = Math.max(size.width, size.height);
  const factor = short < limits.minSide ? limits.minSide / short : long > limits.maxSide ? limits.maxSide / long : 1;
  if (factor === 1 && bytes.length <= limits.maxBytes) return { ...still, bytes };
  // Even sides, rounded up where scaling up, so the short side never ends below the minimum.
  const side = (n: number) => 2 * (factor > 1 ? Math.ceil((n * factor) / 2) : Math.floor((n * factor) / 2));
  const { stdout } = await runMediaTool('ffmpeg', [
    ...['-v', 'error', '-threads', '1', '-i', still.path],
    ...['-vf', `scale=${side(size.width)}:${side(size.height)}:flags=lanczos`],
    ...['-fflags', '+bitexact', '-f', 'image2pipe', '-c:v', 'png', '-'],
  ]);
  if (stdout.length > limits.maxBytes)
    throw new ReferenceImageError(`reference still is ${stdout.length} bytes, over ${limits.maxBytes}, even scaled`);
  const stored = await storeContentAddressed(dirname(still.path), Readable.from([stdout]), { ext: '.png' });
  return { path: stored.path, sha256: stored.sha256, bytes: stdout };
}

export const pngDataUri = (bytes: Buffer): string => `data:image/png;base64,${bytes.toString('base64')}`;
