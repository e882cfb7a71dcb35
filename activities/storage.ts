import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';

export interface StoredFile {
  path: string;
  sha256: string;
  bytes: number;
}

export class FileTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`file is larger than the ${limitBytes}-byte limit`);
    this.name = 'FileTooLargeError';
  }
}

export interface StoreOptions {
  ext?: string;
  maxBytes?: number;
  onChunk?: () => void;
  /** Checks the complete temp file; a throw discards it, so nothing unverified gets a hash name. */
  verify?: (tempPath: string) => Promise<void>;
}

/**
 * Stores bytes content-addressed (`<dir>/<sha256><ext>`): the same video stored twice is one
 * file, and a path in a manifest proves its own content. Written to a temp name first, so a
 * crash never leaves a half file under a hash name.
 */
export async function storeContentAddressed(
  dir: string,
  body: AsyncIterable<Uint8Array>,
  options: StoreOptions = {},
): Promise<StoredFile> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.incoming-${randomUUID()}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (options.maxBytes !== undefined && bytes > options.maxBytes)
        return done(new FileTooLargeError(options.maxBytes));
      hash.update(chunk);
      options.onChunk?.();
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.from(body), meter, createWriteStream(temp));
    await options.verify?.(temp);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const sha256 = hash.digest('hex');
  const path = join(dir, `${sha256}${options.ext ?? ''}`);
  await rename(temp, path);
  return { path, sha256, bytes };
}

/** Writes a JSON document atomically (temp file + rename): readers never see half a manifest. */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n');
  await rename(temp, path);
}
