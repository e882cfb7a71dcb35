import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TakeRecord } from '../../workflows/types';
import { NotFoundError, RangeNotSatisfiableError } from './errors';
import type { Answer } from './route';

/**
 * A take's stored video, sent whole or by byte range (players seek with Range). The file is never
 * named by the request: it is the one the series' own record of the take names, found by its
 * content address (`assets/<sha256>.mp4`, as the workers store it) under the gateway's data
 * directory, and only if it really lies there (no symlink out of it).
 */

const SHA256 = /^[0-9a-f]{64}$/;

/** The take's file under `dataDir`, or a 404 that says why. */
export async function takeFile(dataDir: string | undefined, label: string, take: TakeRecord): Promise<string> {
  if (!take.sha256) throw new NotFoundError(`${label} has no stored video (it ended ${take.outcome})`);
  if (!dataDir)
    throw new NotFoundError(
      "this gateway serves no videos: start it with SORA_SERIES_DATA_DIR set to the workers' data directory",
    );
  const missing = () =>
    new NotFoundError(
      `${label}: its video is not in this gateway's data directory; run the gateway with SORA_SERIES_DATA_DIR set to the directory the workers store into`,
    );
  // The record must name a content-addressed file as the workers write them; anything else is not served.
  if (!SHA256.test(take.sha256) || (take.assetPath && basename(take.assetPath) !== `${take.sha256}.mp4`))
    throw missing();
  const assets = await realpath(join(dataDir, 'assets')).catch(() => {
    throw missing();
  });
  const file = await realpath(join(assets, `${take.sha256}.mp4`)).catch(() => {
    throw missing();
  });
  if (dirname(file) !== assets || !(await stat(file)).isFile()) throw missing();
  return file;
}

/**
 * The one range `bytes=a-b`, `bytes=a-` or `bytes=-n` asks for; undefined for the whole file (no
 * header, several ranges or one that does not parse: RFC 9110 lets a server ignore those).
 */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (!match[1] && !match[2])) return undefined;
  if (!match[1]) {
    const suffix = Number(match[2]);
    if (suffix === 0) throw new RangeNotSatisfiableError(header!, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start >= size) throw new RangeNotSatisfiableError(header!, size);
  if (end < start) return undefined;
  return { start, end };
}

/** 200 with the whole file, or 206 with the range asked for. */
export async function videoAnswer(file: string, sha256: string, rangeHeader: string | undefined): Promise<Answer> {
  const { size } = await stat(file);
  const range = byteRange(rangeHeader, size);
  const headers = {
    'accept-ranges': 'bytes',
    // Content-addressed: the bytes behind this URL never change.
    etag: `"${sha256}"`,
    'cache-control': 'private, max-age=3600',
    'x-content-type-options': 'nosniff',
  };
  if (!range)
    return { status: 200, headers, content: { type: 'video/mp4', length: size, data: createReadStream(file) } };
  const { start, end } = range;
  return {
    status: 206,
    headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` },
    content: { type: 'video/mp4', length: end - start + 1, data: createReadStream(file, { start, end }) },
  };
}
