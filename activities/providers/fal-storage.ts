/**
 * fal storage, the one way reference images reach fal (contracts/fal-queue.md §8): initiate an
 * upload (`POST {storage}/storage/upload/initiate`), `PUT` the bytes to the URL it gives, keep the
 * public file URL. The worker is never exposed; the model fetches the images from fal's CDN.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { classifyHttpFailure, classifyThrown, ProviderError } from './errors';
import { FalReferenceGoneError } from './fal-errors';
import type { FalHttp } from './fal-http';
import type { LocalFile } from './provider';

const initiated = z.object({ upload_url: z.url({ protocol: /^https?$/ }), file_url: z.url({ protocol: /^https?$/ }) });

export class FalStorage {
  constructor(
    private readonly provider: string,
    private readonly storageUrl: string,
    private readonly http: FalHttp,
    private readonly timeoutMs: number,
  ) {}

  /** Uploads each still (PNG) and returns its public file URL, in the same order. */
  async upload(stills: LocalFile[]): Promise<string[]> {
    const urls: string[] = [];
    for (const still of stills) urls.push(await this.uploadOne(still));
    return urls;
  }

  /**
   * Throws FalReferenceGoneError when any URL no longer serves its file: checked before a submit,
   * so a dead handle costs a HEAD per image instead of a paid request that fails.
   */
  async ensureAlive(urls: readonly string[]): Promise<void> {
    const gone: string[] = [];
    for (const url of urls) {
      let response: Response;
      try {
        response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        throw classifyThrown(this.provider, err);
      }
      if (response.status === 404 || response.status === 410 || response.status === 403) gone.push(url);
      else if (!response.ok)
        throw classifyHttpFailure({
          provider: this.provider,
          status: response.status,
          message: 'reference image check failed',
        });
    }
    if (gone.length > 0) throw new FalReferenceGoneError(this.provider, gone);
  }

  private async uploadOne(still: LocalFile): Promise<string> {
    let bytes: Buffer;
    try {
      bytes = await readFile(still.path);
    } catch {
      throw new ProviderError({
        kind: 'invalid',
        code: 'still_unreadable',
        provider: this.provider,
        message: `${this.provider}: reference still ${basename(still.path)} is not readable; make the stills before creating the character`,
      });
    }
    const { upload_url, file_url } = await this.http.json({
      method: 'POST',
      url: `${this.storageUrl}/storage/upload/initiate?storage_type=fal-cdn-v3`,
      what: 'storage upload initiate',
      schema: initiated,
      // the sha256 names the file: the same still is the same object, however often it is uploaded
      body: { content_type: 'image/png', file_name: `${still.sha256}.png` },
    });
    let response: Response;
    try {
      // a pre-signed URL: no key goes with it
      response = await fetch(upload_url, {
        method: 'PUT',
        headers: { 'Content-Type': 'image/png' },
        body: bytes,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer();
    } catch (err) {
      throw classifyThrown(this.provider, err, this.http.secrets);
    }
    if (!response.ok)
      throw classifyHttpFailure({ provider: this.provider, status: response.status, message: 'storage upload failed' });
    return file_url;
  }
}
