import { join } from 'node:path';
import { activityLogger, providerOf, type ActivityDeps } from './deps';
import { asActivityFailure, callProvider } from './provider-failures';
import { ProviderError } from './providers/errors';
import { storeContentAddressed } from './storage';
import type { CharacterRef } from '../workflows/types';

export interface StoredClip {
  url: string;
  sha256: string;
  path: string;
}

export type CharacterRefResult = { ref: CharacterRef } | { refused: string };

export class ClipDownloadError extends Error {
  constructor(url: string, status: number) {
    super(`source clip ${url} answered HTTP ${status}`);
    this.name = 'ClipDownloadError';
  }
}

export function characterActivities(deps: ActivityDeps) {
  const clipsDir = join(deps.dataDir, 'clips');

  /** Keeps our own copy of the source clip: relay hosts expire theirs, and fallback needs it. */
  async function storeSourceClip(input: { url: string }): Promise<StoredClip> {
    const response = await fetch(input.url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok || !response.body) throw new ClipDownloadError(input.url, response.status);
    const stored = await storeContentAddressed(clipsDir, response.body, { ext: '.mp4', maxBytes: deps.maxClipBytes });
    activityLogger(deps).info({ sha256: stored.sha256, bytes: stored.bytes }, 'source clip stored');
    return { url: input.url, sha256: stored.sha256, path: stored.path };
  }

  /**
   * Creates the character on one provider from the stored clip. A provider that refuses the
   * clip itself (a human likeness) is an answer, not an error: the scene then goes degraded.
   */
  async function createCharacterRef(input: {
    provider: string;
    name: string;
    description: string;
    clip: StoredClip;
  }): Promise<CharacterRefResult> {
    const provider = providerOf(deps, input.provider);
    try {
      const created = await provider.createCharacter({
        name: input.name,
        description: input.description,
        clip: { url: input.clip.url, path: input.clip.path },
      });
      activityLogger(deps, { provider: input.provider }).info({ characterId: created.id }, 'character created');
      return { ref: created };
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'rejected') {
        activityLogger(deps, { provider: input.provider }).warn({ code: err.code }, 'character refused');
        return { refused: `${err.code}: ${err.message}` };
      }
      throw asActivityFailure(err);
    }
  }

  /** Creates the character from an earlier generation and keeps that video as the source clip. */
  async function extractCharacter(input: {
    provider: string;
    name: string;
    taskId: string;
  }): Promise<{ ref: CharacterRef; clip: StoredClip }> {
    const provider = providerOf(deps, input.provider);
    const extract = provider.extractCharacter;
    if (!extract) throw new ProviderError({ kind: 'invalid', code: 'extract_unsupported', provider: input.provider, message: `provider "${input.provider}" cannot extract characters from a task` });
    return callProvider(async () => {
      const ref = await extract.call(provider, { name: input.name, taskId: input.taskId });
      const stored = await storeContentAddressed(clipsDir, await provider.download(input.taskId), {
        ext: '.mp4',
        maxBytes: deps.maxClipBytes,
      });
      activityLogger(deps, { provider: input.provider }).info({ characterId: ref.id, taskId: input.taskId }, 'character extracted');
      return { ref, clip: { url: `task:${input.provider}/${input.taskId}`, sha256: stored.sha256, path: stored.path } };
    });
  }

  return { storeSourceClip, createCharacterRef, extractCharacter };
}
