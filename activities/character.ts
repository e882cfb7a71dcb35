import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { activityLogger, providerOf, stillsDirOf, type ActivityDeps } from './deps';
import { referenceStills } from './stills';
import { asActivityFailure, callProvider, recordProviderError } from './provider-failures';
import { ProviderError } from './providers/errors';
import { FileTooLargeError, storeContentAddressed, type StoredFile } from './storage';
import { guardedGet, UrlRefusedError, type GuardedResponse } from './url-guard';
import { describeUrl, PUBLIC_ONLY } from '../common/url-policy';
import { failureTypeOf } from '../workflows/failures';
import type { CharacterRef } from '../workflows/types';

export interface StoredClip {
  url: string;
  sha256: string;
  path: string;
}

export type CharacterRefResult = { ref: CharacterRef } | { refused: string };

/** The clip host failed in a way a later attempt may not (5xx, 408, 429): retried. */
export class ClipDownloadError extends Error {
  constructor(url: string, status: number) {
    super(`source clip ${describeUrl(url)} answered HTTP ${status}`);
    this.name = 'ClipDownloadError';
  }
}

/** The spec fields source problems are about. */
const CLIP_FIELD = 'character.clip';
const EXTRACT_FIELD = 'character.extract';
/** Headers must arrive within this; the whole download (max 50 MB by default) within the other, so a stalled host fails an attempt well inside the transfers timeout. */
const CLIP_HEADERS_TIMEOUT_MS = 30_000;
const CLIP_DOWNLOAD_TIMEOUT_MS = 100_000;
const MAX_CLIP_REDIRECTS = 3;
/** Answers that are surely not a video: an HTML page or an API error instead of the file. */
const NOT_VIDEO = /^(text\/|application\/(json|xml|xhtml))/i;

/**
 * A source the spec should not have named: a clip on a private host, behind too many redirects,
 * too large, not a video, gone; a task whose video is too large. Retrying cannot fix it, so it
 * is non-retryable and typed like any invalid request.
 */
function invalidSource(field: string, code: string, problem: string): ApplicationFailure {
  const message = `${field}: ${problem}`;
  return ApplicationFailure.create({
    message,
    type: failureTypeOf.invalid,
    nonRetryable: true,
    details: [{ kind: 'invalid', code, field, message }],
  });
}

function humanBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Throttled by the SDK; tells the server a long download is still moving. */
const heartbeat = () => Context.current().heartbeat();

export function characterActivities(deps: ActivityDeps) {
  const clipsDir = join(deps.dataDir, 'clips');

  /**
   * Keeps our own copy of the source clip: relay hosts expire theirs, and fallback needs it.
   * The URL comes from a spec, so it is fetched through the SSRF guard (every hop's addresses
   * checked against `deps.urlPolicy`) and its size is bounded before and while downloading.
   */
  async function storeSourceClip(input: { url: string }): Promise<StoredClip> {
    const limit = deps.maxClipBytes;
    const signal = AbortSignal.any([
      Context.current().cancellationSignal,
      AbortSignal.timeout(CLIP_DOWNLOAD_TIMEOUT_MS),
    ]);
    const refuse = (code: string, problem: string) => {
      activityLogger(deps).warn({ code, url: describeUrl(input.url) }, 'source clip refused');
      return invalidSource(CLIP_FIELD, code, problem);
    };
    let response: GuardedResponse;
    try {
      response = await guardedGet(input.url, {
        policy: deps.urlPolicy ?? PUBLIC_ONLY,
        ...(deps.lookupHost ? { lookup: deps.lookupHost } : {}),
        maxRedirects: MAX_CLIP_REDIRECTS,
        headersTimeoutMs: CLIP_HEADERS_TIMEOUT_MS,
        signal,
      });
    } catch (err) {
      if (err instanceof UrlRefusedError) throw refuse(err.code, err.message);
      throw err; // network trouble: the retry policy tries again
    }
    const { status, headers, body } = response;
    const where = describeUrl(response.url);
    if (status < 200 || status > 299) {
      body.resume();
      // a 4xx other than a timeout or throttling answers the same next time: the URL is wrong or gone
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw refuse(
          `http_${status}`,
          `${where} answered HTTP ${status}; check that the URL points at the clip and is publicly readable`,
        );
      }
      throw new ClipDownloadError(response.url, status);
    }
    const type = headers['content-type'] ?? '';
    if (NOT_VIDEO.test(type)) {
      body.resume();
      throw refuse(
        'not_a_video',
        `${where} answered ${type.split(';')[0]}, not a video; link the video file itself (e.g. .mp4)`,
      );
    }
    const declared = Number(headers['content-length']);
    const tooLarge = (bytes?: number) =>
      refuse(
        'clip_too_large',
        `${where} is ${bytes === undefined ? 'larger than' : `${humanBytes(bytes)} (${bytes} bytes), over`} the ${humanBytes(limit)} limit (SORA_SERIES_MAX_CLIP_BYTES=${limit}); use a 2-4 s clip or raise the worker's limit`,
      );
    if (Number.isFinite(declared) && declared > limit) {
      body.destroy();
      throw tooLarge(declared);
    }
    let stored: StoredFile;
    try {
      stored = await storeContentAddressed(clipsDir, body, { ext: '.mp4', maxBytes: limit, onChunk: heartbeat });
    } catch (err) {
      if (err instanceof FileTooLargeError) throw tooLarge();
      throw err;
    } finally {
      body.destroy();
    }
    activityLogger(deps).info(
      { sha256: stored.sha256, bytes: stored.bytes, redirects: response.redirects.length },
      'source clip stored',
    );
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
        stills: await referenceStills(input.clip, stillsDirOf(deps)),
      });
      activityLogger(deps, { provider: input.provider }).info({ characterId: created.id }, 'character created');
      return { ref: created };
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'rejected') {
        activityLogger(deps, { provider: input.provider }).warn({ code: err.code }, 'character refused');
        recordProviderError(err.provider, err.kind);
        return { refused: `${err.code}: ${err.message}` };
      }
      throw asActivityFailure(err);
    }
  }

  /** Creates the character on the provider from one of its earlier generations: one short upstream call. */
  async function extractCharacterRef(input: { provider: string; name: string; taskId: string }): Promise<CharacterRef> {
    const provider = providerOf(deps, input.provider);
    const extract = provider.extractCharacter;
    if (!extract)
      throw new ProviderError({
        kind: 'invalid',
        code: 'extract_unsupported',
        provider: input.provider,
        message: `provider "${input.provider}" cannot extract characters from a task`,
      });
    const ref = await callProvider(() => extract.call(provider, { name: input.name, taskId: input.taskId }));
    activityLogger(deps, { provider: input.provider }).info(
      { characterId: ref.id, taskId: input.taskId },
      'character extracted',
    );
    return ref;
  }

  /**
   * Keeps the video of that earlier generation as the character's source clip, for fallback
   * providers. A whole video: it runs where transfers run, heartbeating per chunk.
   */
  async function storeTaskClip(input: { provider: string; taskId: string }): Promise<StoredClip> {
    const provider = providerOf(deps, input.provider);
    const limit = deps.maxClipBytes;
    let stored: StoredFile;
    try {
      stored = await callProvider(async () =>
        storeContentAddressed(clipsDir, await provider.download(input.taskId), {
          ext: '.mp4',
          maxBytes: limit,
          onChunk: heartbeat,
        }),
      );
    } catch (err) {
      // The same task is as large on every attempt.
      if (err instanceof FileTooLargeError)
        throw invalidSource(
          EXTRACT_FIELD,
          'clip_too_large',
          `the video of task ${input.taskId} on ${input.provider} is larger than the ${humanBytes(limit)} limit (SORA_SERIES_MAX_CLIP_BYTES=${limit}); extract from a shorter task or raise the worker's limit`,
        );
      throw err;
    }
    activityLogger(deps, { provider: input.provider }).info(
      { sha256: stored.sha256, bytes: stored.bytes, taskId: input.taskId },
      'task clip stored',
    );
    return { url: `task:${input.provider}/${input.taskId}`, sha256: stored.sha256, path: stored.path };
  }

  /**
   * Both steps in one upstream activity, for series whose history schedules it (the unpatched
   * branch of workflows/passport.ts): their retries still find it.
   */
  async function extractCharacter(input: {
    provider: string;
    name: string;
    taskId: string;
  }): Promise<{ ref: CharacterRef; clip: StoredClip }> {
    return { ref: await extractCharacterRef(input), clip: await storeTaskClip(input) };
  }

  return { storeSourceClip, createCharacterRef, extractCharacterRef, storeTaskClip, extractCharacter };
}
