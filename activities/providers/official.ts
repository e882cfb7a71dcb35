/**
 * The official contract: OpenAI's Videos API or any host serving the same shape, through the
 * `openai` SDK. The SDK does not retry here (Temporal does) and its errors are classified in
 * errors.ts like every other upstream's.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import OpenAI, { APIError, toFile } from 'openai';
import { z } from 'zod';
import type { ProviderProfile } from '../../workflows/types';
import { classifyHttpFailure, classifyJobFailure, classifyThrown, contractViolation, ProviderError } from './errors';
import { otherModelReason, refuseUnsupported, unsupportedReason } from './request-checks';
import type {
  AccountCheck,
  CharacterClip,
  CreatedCharacter,
  JobState,
  JobStatus,
  SubmitRequest,
  VideoProvider,
} from './provider';
import { streamBody } from './streaming';
import { mentionFor } from '../../workflows/prompt';
import { renderMentions } from './mentions';

export interface OfficialOptions {
  profile: ProviderProfile;
  /** e.g. `https://api.openai.com/v1` or an OpenAI-compatible host. */
  baseUrl: string;
  apiKey: string;
  /** The model this provider is priced for. */
  model: string;
  timeoutMs: number;
}

const videoBody = z.object({
  id: z.string().min(1),
  status: z.enum(['queued', 'in_progress', 'completed', 'failed']),
  progress: z.number().min(0).max(100).nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});
type VideoBody = z.infer<typeof videoBody>;

const characterBody = z.object({ id: z.string().min(1), name: z.string().nullish() });

const STATE_BY_STATUS: Record<VideoBody['status'], JobState> = {
  queued: 'queued',
  in_progress: 'running',
  completed: 'completed',
  failed: 'failed',
};

const CLIP_TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.mov': 'video/quicktime', '.webm': 'video/webm' };

export class OfficialProvider implements VideoProvider {
  readonly contract = 'official' as const;
  readonly name: string;
  readonly profile: ProviderProfile;
  readonly #client: OpenAI;
  readonly #apiKey: string;
  readonly #model: string;
  readonly #timeoutMs: number;

  constructor(options: OfficialOptions) {
    this.profile = options.profile;
    this.name = options.profile.name;
    this.#apiKey = options.apiKey;
    this.#model = options.model;
    this.#timeoutMs = options.timeoutMs;
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      maxRetries: 0, // Temporal's retry policy owns retries, with classified errors
      timeout: options.timeoutMs,
      // explicit nulls: the worker's OPENAI_ORG_ID/PROJECT_ID must not leak to a reseller host
      organization: null,
      project: null,
    });
  }

  async createCharacter(input: { name: string; description: string; clip: CharacterClip }): Promise<CreatedCharacter> {
    const video = await this.#clipUpload(input.clip.path);
    const created = await this.#call(() => this.#client.videos.createCharacter({ video, name: input.name }));
    const parsed = characterBody.safeParse(created);
    if (!parsed.success) throw contractViolation(this.name, 'character creation', parsed.error);
    // The official contract links a character to a prompt by its name appearing in the text.
    return { id: parsed.data.id, mention: mentionFor('official', parsed.data.id, parsed.data.name || input.name) };
  }

  async submit(request: SubmitRequest): Promise<{ jobId: string }> {
    this.#checkSupported(request);
    const ids = heldIds(request);
    const body = {
      prompt: renderedPrompt(request),
      model: this.#model,
      seconds: String(request.seconds),
      size: request.size,
      // `characters` is outside the SDK's typed params. The SDK always sends create as multipart
      // and would flatten an array to `characters[][id]`; an index-keyed object yields the
      // contract's `characters[0][id]`.
      ...(ids.length ? { characters: Object.fromEntries(ids.map((id, i) => [i, { id }])) } : {}),
    };
    const video = await this.#call(() =>
      // The SDK only sends `idempotencyKey` for clients with an idempotency header configured,
      // which OpenAI's is not, so the header is set by hand.
      this.#client.videos.create(body as unknown as OpenAI.Videos.VideoCreateParams, {
        headers: { 'Idempotency-Key': request.idempotencyKey },
      }),
    );
    return { jobId: this.#parseVideo(video, 'video creation').id };
  }

  /** The newest job with this exact prompt created since `notBefore`, from the cursor list. */
  async findJob(request: SubmitRequest, notBefore: Date): Promise<string | undefined> {
    const since = Math.floor(notBefore.getTime() / 1000);
    const prompt = renderedPrompt(request);
    const page = await this.#call(() => this.#client.videos.list({ order: 'desc', limit: 100 }));
    for (const video of page.data) {
      if (video.created_at < since) break; // newest first: nothing older can be this take's
      if (video.prompt === prompt) return video.id;
    }
    return undefined;
  }

  /** The job list costs nothing and needs a valid key; the contract tells nothing of balances. */
  async checkAccount(): Promise<AccountCheck> {
    await this.#call(() => this.#client.videos.list({ limit: 1 }));
    return {};
  }

  async getJob(jobId: string): Promise<JobStatus> {
    return statusOf(
      this.#parseVideo(await this.#call(() => this.#client.videos.retrieve(jobId), true), 'video status'),
    );
  }

  /** The job list, newest first, one page of 100 a call, until every id is found (or LIST_PAGES pages). */
  async getJobs(jobIds: string[]): Promise<JobStatus[]> {
    const wanted = new Set(jobIds);
    const found: JobStatus[] = [];
    let after: string | undefined;
    for (let page = 0; page < LIST_PAGES && wanted.size > 0; page++) {
      const list = await this.#call(() =>
        this.#client.videos.list({ order: 'desc', limit: 100, ...(after ? { after } : {}) }),
      );
      for (const item of list.data) {
        if (!wanted.delete(item.id)) continue;
        found.push(statusOf(this.#parseVideo(item, 'video list')));
      }
      if (!list.hasNextPage() || list.data.length === 0) break;
      after = list.data[list.data.length - 1].id;
    }
    return found;
  }

  async download(jobId: string): Promise<AsyncIterable<Uint8Array>> {
    const controller = new AbortController();
    const response = await this.#call(
      () => this.#client.videos.downloadContent(jobId, { variant: 'video' }, { signal: controller.signal }),
      true,
    );
    if (!response.body) throw contractViolation(this.name, 'video download', 'empty body');
    return streamBody(response.body, {
      provider: this.name,
      idleTimeoutMs: this.#timeoutMs,
      abort: () => controller.abort(),
    });
  }

  #checkSupported(request: SubmitRequest): void {
    refuseUnsupported(this.name, [
      unsupportedReason(this.profile, request),
      otherModelReason(request.model, this.#model),
    ]);
  }

  async #clipUpload(path: string) {
    try {
      await access(path);
    } catch {
      throw new ProviderError({
        kind: 'invalid',
        code: 'clip_unreadable',
        provider: this.name,
        message: `${this.name}: character clip ${basename(path)} is not readable; store the clip before creating the character`,
      });
    }
    const name = basename(path);
    return toFile(createReadStream(path), name, { type: CLIP_TYPES[extname(name).toLowerCase()] ?? 'video/mp4' });
  }

  #parseVideo(value: unknown, what: string): VideoBody {
    const parsed = videoBody.safeParse(value);
    if (!parsed.success) throw contractViolation(this.name, what, parsed.error);
    return parsed.data;
  }

  /** Runs one SDK call and classifies whatever it throws. */
  async #call<T>(run: () => Promise<T>, addressesId = false): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.#classify(err, addressesId);
    }
  }

  #classify(err: unknown, addressesId: boolean): ProviderError {
    const secrets = [this.#apiKey];
    if (!(err instanceof APIError) || err.status === undefined) return classifyThrown(this.name, err, secrets);
    const body = isRecord(err.error) ? err.error : undefined;
    const code = typeof body?.code === 'string' ? body.code : undefined;
    return classifyHttpFailure({
      provider: this.name,
      status: err.status,
      ...(code ? { code } : {}),
      message: typeof body?.message === 'string' ? body.message : err.message,
      retryAfter: err.headers?.get('retry-after') ?? null,
      retryAfterMsHeader: err.headers?.get('retry-after-ms') ?? null,
      addressesId,
      contractShapedBody: body !== undefined,
      secrets,
    });
  }
}

/** Pages of the job list one batch read looks through: jobs older than that are read one by one. */
const LIST_PAGES = 2;

function statusOf(video: VideoBody): JobStatus {
  const state = STATE_BY_STATUS[video.status];
  const progress = state === 'completed' ? 100 : Math.round(video.progress ?? 0);
  if (state !== 'failed') return { jobId: video.id, state, progress };
  return {
    jobId: video.id,
    state,
    progress,
    error: classifyJobFailure(video.error?.code ?? undefined, video.error?.message ?? undefined),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The contract takes at most this many characters per video (contracts README). */
export const OFFICIAL_MAX_CHARACTERS = 2;

/** Character ids the video links to: each held character's, its name also in the prompt. */
function heldIds(request: SubmitRequest): string[] {
  if (!request.characters) return request.characterId ? [request.characterId] : [];
  return request.characters.flatMap((c) => (c.ref ? [c.ref.id] : [])).slice(0, OFFICIAL_MAX_CHARACTERS);
}

/** Held characters by their names (the contract links a character by its name in the text), the rest described. */
function renderedPrompt(request: SubmitRequest): string {
  if (!request.characters) return request.prompt;
  const held = new Set(heldIds(request));
  return renderMentions(request.prompt, request.characters, (c) =>
    c.ref && held.has(c.ref.id) ? c.ref.mention : undefined,
  );
}
