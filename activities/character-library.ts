/**
 * The activities of a library character's workflow (workflows/character/): its reference images
 * stored content-addressed, its stills, and one provider's handle made from them. The clip itself
 * is stored by character.ts's storeSourceClip, the one way a spec URL becomes a local clip.
 */
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { activityLogger, providerOf, stillsDirOf, type ActivityDeps } from './deps';
import { asActivityFailure, recordProviderError } from './provider-failures';
import { ProviderError } from './providers/errors';
import { referenceStills } from './stills';
import { FileTooLargeError, storeContentAddressed } from './storage';
import { guardedGet, UrlRefusedError } from './url-guard';
import { describeUrl, PUBLIC_ONLY } from '../common/url-policy';
import { characterPriceOf } from '../workflows/cast-rules';
import { failureTypeOf } from '../workflows/failures';
import type { CharacterRef, StoredMedia } from '../workflows/types';

/** A reference image is a photo or a frame, far below a clip's size. */
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const IMAGE_TYPES: Record<string, string> = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/webp': '.webp' };

export type HandleResult = { ref: CharacterRef; costUsd: number } | { refused: string };

function invalidImage(index: number, code: string, problem: string): ApplicationFailure {
  const field = `images[${index}]`;
  const message = `${field}: ${problem}`;
  return ApplicationFailure.create({
    message,
    type: failureTypeOf.invalid,
    nonRetryable: true,
    details: [{ kind: 'invalid', code, field, message }],
  });
}

export function characterLibraryActivities(deps: ActivityDeps) {
  const imagesDir = join(deps.dataDir, 'images');
  const stillsDir = stillsDirOf(deps);

  /** One reference image, fetched through the SSRF guard and stored by its sha256. */
  async function storeReferenceImage(input: { url: string; index: number }): Promise<StoredMedia & { url: string }> {
    let response;
    try {
      response = await guardedGet(input.url, {
        policy: deps.urlPolicy ?? PUBLIC_ONLY,
        ...(deps.lookupHost ? { lookup: deps.lookupHost } : {}),
        maxRedirects: 3,
        headersTimeoutMs: 30_000,
      });
    } catch (err) {
      if (err instanceof UrlRefusedError) throw invalidImage(input.index, err.code, err.message);
      throw err;
    }
    const where = describeUrl(response.url);
    const type = (response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (response.status < 200 || response.status > 299 || !IMAGE_TYPES[type]) {
      response.body.resume();
      if (response.status >= 500 || response.status === 429)
        throw new Error(`${where} answered HTTP ${response.status}`);
      throw invalidImage(
        input.index,
        'not_an_image',
        `${where} answered HTTP ${response.status} ${type || 'without a content type'}; link a PNG, JPEG or WebP image`,
      );
    }
    try {
      const stored = await storeContentAddressed(imagesDir, response.body, {
        ext: IMAGE_TYPES[type],
        maxBytes: MAX_IMAGE_BYTES,
      });
      return { url: input.url, path: stored.path, sha256: stored.sha256 };
    } catch (err) {
      if (err instanceof FileTooLargeError)
        throw invalidImage(
          input.index,
          'image_too_large',
          `${where} is over ${MAX_IMAGE_BYTES} bytes; use a smaller image`,
        );
      throw err;
    } finally {
      response.body.destroy();
    }
  }

  /** Frames of the clip, frontal first, made once per clip (stills.ts). */
  async function clipStills(input: { clip: StoredMedia }): Promise<StoredMedia[]> {
    return referenceStills(input.clip, stillsDir);
  }

  /**
   * Makes the character's handle on one provider from its clip and stills. A provider that refuses
   * the material itself (a human likeness) is an answer, not an error: scenes there go degraded.
   */
  async function createCharacterHandle(input: {
    provider: string;
    name: string;
    description: string;
    clip: StoredMedia & { url: string };
    stills: StoredMedia[];
  }): Promise<HandleResult> {
    const provider = providerOf(deps, input.provider);
    const log = activityLogger(deps, { provider: input.provider, character: input.name });
    try {
      const ref = await provider.createCharacter({
        name: input.name,
        description: input.description,
        clip: { url: input.clip.url, path: input.clip.path },
        stills: input.stills,
      });
      const costUsd = characterPriceOf(provider.profile);
      log.info({ characterId: ref.id, costUsd }, 'character handle created');
      return { ref, costUsd };
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'rejected') {
        log.warn({ code: err.code }, 'character refused');
        recordProviderError(err.provider, err.kind);
        return { refused: `${err.code}: ${err.message}` };
      }
      throw asActivityFailure(err);
    }
  }

  return { storeReferenceImage, clipStills, createCharacterHandle };
}
