/**
 * Reference stills taken from a character's clip, for providers that hold a character by images
 * (Kling elements, Seedance and fal reference-to-video). Stored content-addressed beside the
 * clips and listed in `<clip sha256>.json`, so every take of every series reuses one set.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { probeLayout } from '../common/media-probe';
import { runMediaTool } from '../common/media-tools';
import { storeContentAddressed, writeJsonAtomically } from './storage';

export interface StoredStill {
  path: string;
  sha256: string;
}

/** Where in the clip the stills are taken: the first is the frontal one (the opening frame of a character clip). */
const STILL_POSITIONS = [0.05, 0.5, 0.9];

/** Stills being made now, by index file: concurrent takes of one clip share one ffmpeg run. */
const making = new Map<string, Promise<StoredStill[]>>();

/**
 * `count` PNG stills of the clip, frontal first; made once per clip. Takes that ask at the same
 * time wait for the same run: a series starting a thousand scenes at once ran a thousand ffprobes
 * and three thousand ffmpegs before the first index was written (npm run bench, memory).
 */
export function referenceStills(
  clip: { path: string; sha256: string },
  dir: string,
  count = STILL_POSITIONS.length,
): Promise<StoredStill[]> {
  const key = `${join(dir, clip.sha256)}/${count}`;
  let run = making.get(key);
  if (!run) {
    run = makeStills(clip, dir, count).finally(() => making.delete(key));
    making.set(key, run);
  }
  return run;
}

async function makeStills(clip: { path: string; sha256: string }, dir: string, count: number): Promise<StoredStill[]> {
  const index = join(dir, `${clip.sha256}.json`);
  const known = await readIndex(index);
  if (known && known.length >= count) return known.slice(0, count);
  const duration = (await probeLayout(clip.path)).durationSeconds ?? 1;
  const stills: StoredStill[] = [];
  for (const position of STILL_POSITIONS.slice(0, count)) {
    const at = (duration * position).toFixed(3);
    // One thread and bit-exact PNG: a retried attempt stores the same bytes under the same name.
    const { stdout } = await runMediaTool('ffmpeg', [
      ...['-v', 'error', '-threads', '1', '-ss', at, '-i', clip.path],
      ...['-frames:v', '1', '-fflags', '+bitexact', '-f', 'image2pipe', '-c:v', 'png', '-'],
    ]);
    const stored = await storeContentAddressed(dir, Readable.from([stdout]), { ext: '.png' });
    stills.push({ path: stored.path, sha256: stored.sha256 });
  }
  await writeJsonAtomically(index, stills);
  return stills;
}

/** The listed stills, if the index and every file it names are there. */
async function readIndex(path: string): Promise<StoredStill[] | undefined> {
  try {
    const stills = JSON.parse(await readFile(path, 'utf8')) as StoredStill[];
    await Promise.all(stills.map((still) => access(still.path)));
    return stills;
  } catch {
    return undefined;
  }
}
