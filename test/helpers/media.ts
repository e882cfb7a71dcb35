import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeMedia, type MediaProbe } from '../../common/media-probe';

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** ffprobe (really decoding) on bytes in memory, through a temp file. */
export async function probeBytes(bytes: Buffer): Promise<MediaProbe> {
  const dir = await mkdtemp(join(tmpdir(), 'probe-'));
  try {
    const path = join(dir, 'media');
    await writeFile(path, bytes);
    return await probeMedia(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function download(url: string, init?: RequestInit): Promise<{ type: string | null; bytes: Buffer }> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return { type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}
