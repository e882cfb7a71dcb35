/**
 * The `seedance` contract: Seedance 2.0 on BytePlus ModelArk (`contents/generations/tasks`,
 * ../shared/contracts/seedance.md). A character is held by reference images sent with every
 * request (`reference_image` items, named "Image 1", "Image 2"... in the prompt by their order);
 * ratio, resolution, duration, audio and seed are always sent, so the model chooses nothing the
 * spec did not ask for.
 *
 * Ark has no idempotency key. The seed sent is derived from the take's key, and task objects echo
 * it, so a task found in the list by seed is this take's. A create whose answer was lost (reset,
 * timeout, a proxy's 502/504, an unreadable 2xx) is never sent again: the list is searched at once,
 * and when the task is not there the take fails without a retry, marked as an uncertain submission.
 *
 * Over 300 lines on purpose: the adapter class keeps the scenes it remembers (the one free retake
 * after output moderation) across its methods; its HTTP call and wire shapes are in seedance-*.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { scrubSecrets } from '../../common/secrets';
import { parseTakeIdempotencyKey } from '../../workflows/ids';
import type { ProviderProfile } from '../../workflows/types';
import { fetchAsset } from './asset-download';
import { classifyJobFailure, contractViolation, ProviderError } from './errors';
import { renderMentions } from './mentions';
import { ArkHttp } from './seedance-http';
import {
  AnswerLost,
  arkKind,
  createdBody,
  type Format,
  imageMention,
  listBody,
  RUNNING_PROGRESS,
  sameParameters,
  signedUrlExpiry,
  STATE_BY_STATUS,
  takeSeed,
  taskBody,
  type TaskBody,
  type TaskMatch,
} from './seedance-wire';
import { otherModelReason, refuseUnsupported, unsupportedReason } from './request-checks';
import type {
  AccountCheck,
  CharacterClip,
  CreatedCharacter,
  JobStatus,
  LocalFile,
  SubmitRequest,
  SubmitResult,
  TakeCharacter,
  VideoProvider,
} from './provider';
import { fitReferenceImage, pngDataUri, ReferenceImageError, type ImageLimits } from './reference-images';
import { SEEDANCE_FORMATS, seedanceTokensUsd, type SeedanceSettings } from './seedance-config';

export interface SeedanceOptions {
  profile: ProviderProfile;
  /** e.g. `https://ark.ap-southeast.bytepluses.com/api/v3`. */
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
  settings: SeedanceSettings;
  /** Pauses before each task-list search after a lost create answer (ms). */
  reconcileDelaysMs?: number[];
}

/** Ark's reference limits (seedance.md §6). */
export const SEEDANCE_MAX_REFERENCE_IMAGES = 9;
export const SEEDANCE_IMAGE_LIMITS: ImageLimits = {
  minSide: 300,
  maxSide: 6000,
  minAspect: 0.4,
  maxAspect: 2.5,
  maxBytes: 30 * 1024 * 1024,
};
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_PROMPT_WORDS = 1000;
/** Ark's clock against ours, and a create's own time in flight: how far before sending a task may be stamped. */
const CREATED_AT_SLACK_S = 5;
/** Task-list pages searched when reconciling (page size 100: the newest 500 tasks). */
const LIST_PAGE_SIZE = 100;
const LIST_MAX_PAGES = 5;
/** A search after a lost answer must leave the activity time to report (upstream activities: 45 s). */
const RECONCILE_CALL_TIMEOUT_MS = 5_000;
const DEFAULT_RECONCILE_DELAYS_MS = [500, 2_000];
/** Scenes remembered for the one blind retry after output moderation (seedance.md §7). */
const MAX_REMEMBERED = 10_000;

export class SeedanceProvider implements VideoProvider {
  readonly contract = 'seedance' as const;
  readonly name: string;
  readonly profile: ProviderProfile;
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #model: string;
  readonly #timeoutMs: number;
  readonly #http: ArkHttp;
  readonly #settings: SeedanceSettings;
  readonly #reconcileDelaysMs: number[];
  /** job id → its scene (take key without the take), and scenes whose output moderation failed once. */
  readonly #sceneOfJob = new Map<string, string>();
  readonly #moderatedScenes = new Set<string>();

  constructor(options: SeedanceOptions) {
    this.profile = options.profile;
    this.name = options.profile.name;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#model = options.model;
    this.#timeoutMs = options.timeoutMs;
    this.#http = new ArkHttp(this.name, this.#baseUrl, this.#apiKey, this.#timeoutMs);
    this.#settings = options.settings;
    this.#reconcileDelaysMs = options.reconcileDelaysMs ?? DEFAULT_RECONCILE_DELAYS_MS;
  }

  /**
   * A `referenced` handle: the character's stills, made fit for Ark's limits now (so a clip
   * that cannot work fails before any take), go with every request. No upstream call.
   */
  async createCharacter(input: {
    name: string;
    description: string;
    clip: CharacterClip;
    stills: LocalFile[];
  }): Promise<CreatedCharacter> {
    if (input.stills.length === 0)
      throw this.#invalid('no_reference_stills', `character ${input.name} has no reference stills; give it a clip`);
    const images = await this.#fit(input.stills.slice(0, this.#settings.stillsPerCharacter));
    const base = this.#settings.referenceImageBaseUrl;
    return {
      id: `stills-${images[0].sha256.slice(0, 16)}`,
      mention: input.name,
      hold: 'referenced',
      ...(base ? { references: images.map((image) => `${base}/${image.sha256}.png`) } : {}),
    };
  }

  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const { body, seed, format } = await this.#createBody(request);
    const sentAtS = Math.floor(Date.now() / 1000);
    let jobId: string;
    try {
      ({ id: jobId } = await this.#http.call({
        method: 'POST',
        path: '/contents/generations/tasks',
        what: 'task creation',
        schema: createdBody,
        body,
        spends: true,
      }));
    } catch (err) {
      if (!(err instanceof AnswerLost)) throw err;
      return this.#reconcileLost(request, { seed, seconds: request.seconds, ...format }, sentAtS, err.message);
    }
    this.#remember(jobId, request.idempotencyKey);
    return { jobId };
  }

  /** On a retried attempt: this take's task, by the seed derived from its key, created since `notBefore`. */
  async findJob(request: SubmitRequest, notBefore: Date): Promise<SubmitResult | undefined> {
    const format = this.#format(request.size);
    const found = await this.#search(
      { seed: takeSeed(request.idempotencyKey), seconds: request.seconds, ...format },
      Math.floor(notBefore.getTime() / 1000) - CREATED_AT_SLACK_S,
      this.#timeoutMs,
    );
    if (found) this.#remember(found.jobId, request.idempotencyKey);
    return found;
  }

  /** The task list costs nothing and needs a valid key; Ark tells nothing of balances before a create. */
  async checkAccount(): Promise<AccountCheck> {
    const query = new URLSearchParams({ page_num: '1', page_size: '1' });
    await this.#http.call({
      method: 'GET',
      path: `/contents/generations/tasks?${query}`,
      what: 'task list',
      schema: listBody,
    });
    return {};
  }

  async getJob(jobId: string): Promise<JobStatus> {
    const task = await this.#getTask(jobId);
    const state = STATE_BY_STATUS[task.status];
    const progress = state === 'completed' ? 100 : state === 'running' ? RUNNING_PROGRESS : 0;
    if (state === 'completed') {
      const tokens = task.usage?.completion_tokens ?? undefined;
      const billed =
        tokens === undefined
          ? {}
          : { billed: { usd: seedanceTokensUsd(tokens, this.#settings.usdPerMillionTokens), tokens } };
      return { jobId: task.id, state, progress, ...billed };
    }
    if (state !== 'failed') return { jobId: task.id, state, progress };
    return { jobId: task.id, state, progress, error: this.#taskError(task) };
  }

  async download(jobId: string): Promise<AsyncIterable<Uint8Array>> {
    // The TOS URL is signed for 24 h: take it fresh from the task right before fetching.
    const task = await this.#getTask(jobId);
    if (task.status !== 'succeeded') {
      throw this.#invalid('job_not_completed', `task ${jobId} is ${task.status}, not succeeded; wait for it first`);
    }
    const url = task.content?.video_url;
    if (!url) throw contractViolation(this.name, `task ${jobId}`, 'succeeded without content.video_url');
    const deadAt = signedUrlExpiry(url);
    if (deadAt !== undefined && Date.now() >= deadAt)
      throw new ProviderError({
        kind: 'invalid',
        code: 'asset_expired',
        provider: this.name,
        message: `${this.name}: the video URL of task ${jobId} expired ${new Date(deadAt).toISOString()} (Ark keeps it 24 h)`,
      });
    return fetchAsset({
      provider: this.name,
      url,
      timeoutMs: this.#timeoutMs,
      apiBaseUrl: this.#baseUrl,
      apiKey: this.#apiKey,
    });
  }

  /** The request body, after every check that can fail for free. */
  async #createBody(request: SubmitRequest): Promise<{ body: string; seed: number; format: Format }> {
    refuseUnsupported(this.name, [
      unsupportedReason(this.profile, request),
      otherModelReason(request.model, this.#model),
    ]);
    const format = this.#format(request.size);
    const { text, images } = await this.#prompt(request);
    const words = text.split(/\s+/).filter(Boolean).length;
    if (words > MAX_PROMPT_WORDS)
      throw this.#invalid(
        'prompt_too_long',
        `the prompt has ${words} words; Seedance takes at most ${MAX_PROMPT_WORDS}`,
      );
    const seed = takeSeed(request.idempotencyKey);
    const settings = this.#settings;
    const body = JSON.stringify({
      model: this.#model,
      content: [
        { type: 'text', text },
        ...images.map((url) => ({ type: 'image_url', image_url: { url }, role: 'reference_image' })),
      ],
      resolution: format.resolution,
      ratio: format.ratio,
      duration: request.seconds,
      seed,
      generate_audio: settings.generateAudio,
      watermark: settings.watermark,
      ...(settings.callbackUrl ? { callback_url: settings.callbackUrl } : {}),
      ...(settings.executionExpiresAfterSeconds
        ? { execution_expires_after: settings.executionExpiresAfterSeconds }
        : {}),
    });
    if (Buffer.byteLength(body) > MAX_BODY_BYTES)
      throw this.#invalid(
        'request_too_large',
        `the request with its reference images is over 64 MB; set seedance.referenceImageBaseUrl or fewer seedance.stillsPerCharacter`,
      );
    return { body, seed, format };
  }

  #format(size: string): Format {
    const format = SEEDANCE_FORMATS.get(size);
    if (!format) throw this.#invalid('unsupported_request', `size ${size} is not one Seedance renders`);
    return { resolution: format.resolution, ratio: format.ratio };
  }

  /**
   * The prompt with each character named by its images' order, and the image URLs in that order:
   * frontal stills of every character first, then further stills, at most 9 in all. A character
   * left without an image is described (its continuity degraded); older scenes' prompts arrive as they are.
   */
  async #prompt(request: SubmitRequest): Promise<{ text: string; images: string[] }> {
    const characters = request.characters;
    if (!characters) return { text: request.prompt, images: [] };
    const perCharacter = await Promise.all(
      characters.map((c) => (c.ref ? this.#fit(c.stills.slice(0, this.#settings.stillsPerCharacter)) : [])),
    );
    const order: Array<{ character: number; url: string }> = [];
    const deepest = Math.max(0, ...perCharacter.map((images) => images.length));
    for (let depth = 0; depth < deepest; depth++)
      perCharacter.forEach((images, character) => {
        if (images[depth] && order.length < SEEDANCE_MAX_REFERENCE_IMAGES)
          order.push({ character, url: this.#imageUrl(images[depth]) });
      });
    const numbers = characters.map((_, i) => order.flatMap((o, n) => (o.character === i ? [n + 1] : [])));
    const text = renderMentions(request.prompt, characters, (c: TakeCharacter, i: number) =>
      numbers[i].length ? imageMention(c.name, numbers[i], this.#settings.referenceStyle) : undefined,
    );
    return { text, images: order.map((o) => o.url) };
  }

  #imageUrl(image: LocalFile & { bytes: Buffer }): string {
    const base = this.#settings.referenceImageBaseUrl;
    return base ? `${base}/${image.sha256}.png` : pngDataUri(image.bytes);
  }

  async #fit(stills: LocalFile[]): Promise<Array<LocalFile & { bytes: Buffer }>> {
    try {
      return await Promise.all(stills.map((still) => fitReferenceImage(still, SEEDANCE_IMAGE_LIMITS)));
    } catch (err) {
      if (err instanceof ReferenceImageError) throw this.#invalid('reference_image_unfit', err.message);
      throw err;
    }
  }

  /**
   * After a lost create answer: search the task list now (and once more after a pause) for the
   * task by its seed. Found: it is this take's. Not found: the take ends without another create,
   * since Ark may still have accepted it, and says so (`uncertainSubmission`).
   */
  async #reconcileLost(request: SubmitRequest, match: TaskMatch, sentAtS: number, why: string): Promise<SubmitResult> {
    for (const delay of this.#reconcileDelaysMs) {
      await sleep(delay);
      try {
        const found = await this.#search(match, sentAtS - CREATED_AT_SLACK_S, RECONCILE_CALL_TIMEOUT_MS);
        if (found) {
          this.#remember(found.jobId, request.idempotencyKey);
          return found;
        }
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        // the list failing too is no answer either way: look again, then give up
      }
    }
    throw new ProviderError({
      kind: 'transient',
      code: 'submit_outcome_unknown',
      provider: this.name,
      retryable: false,
      uncertainSubmission: true,
      message: `${this.name}: the task creation's answer was lost (${why}) and no task with this take's seed ${match.seed} is in the task list; Ark may still bill one, so the take is not sent again`,
    });
  }

  /**
   * This take's task among those created since `sinceS`: by its seed where the list echoes seeds;
   * else, by parameters alone, the one candidate there is (reported as uncertain).
   */
  async #search(match: TaskMatch, sinceS: number, timeoutMs: number): Promise<SubmitResult | undefined> {
    const candidates: TaskBody[] = [];
    for (let page = 1; page <= LIST_MAX_PAGES; page++) {
      const query = new URLSearchParams({
        page_num: String(page),
        page_size: String(LIST_PAGE_SIZE),
        'filter.model': this.#model,
      });
      const { items } = await this.#http.call({
        method: 'GET',
        path: `/contents/generations/tasks?${query}`,
        what: 'task list',
        schema: listBody,
        timeoutMs,
      });
      const recent = items.filter((task) => task.created_at >= sinceS);
      const exact = recent.find((task) => task.seed === match.seed);
      if (exact) return { jobId: exact.id };
      candidates.push(...recent.filter((task) => task.seed == null && sameParameters(task, match)));
      // newest first is the likely order [U]: a page reaching past the window ends the search either way
      if (items.length < LIST_PAGE_SIZE || recent.length < items.length) break;
    }
    if (candidates.length !== 1) return undefined;
    return {
      jobId: candidates[0].id,
      uncertain: {
        code: 'heuristic_match',
        message: `task ${candidates[0].id} matched by model, duration, ratio and resolution only (the task list echoes no seed)`,
      },
    };
  }

  #getTask(jobId: string): Promise<TaskBody> {
    return this.#http.call({
      method: 'GET',
      path: `/contents/generations/tasks/${encodeURIComponent(jobId)}`,
      what: 'task query',
      schema: taskBody,
      addressesId: true,
    });
  }

  /**
   * A failed, expired or cancelled task, classified. Output moderation fails at random on identical
   * input and a resubmit often passes (seedance.md §7), and failures are free: the first one of a
   * scene is worth a new take, the second is the content.
   */
  #taskError(task: TaskBody): NonNullable<JobStatus['error']> {
    if (task.status === 'expired')
      return {
        kind: 'transient',
        code: 'expired',
        message: 'the task expired before it ran (execution_expires_after)',
      };
    if (task.status === 'cancelled') return { kind: 'transient', code: 'cancelled', message: 'the task was cancelled' };
    const code = task.error?.code ?? undefined;
    const message = scrubSecrets(task.error?.message ?? code ?? 'task failed without a reason', [this.#apiKey]);
    const kind = arkKind(code);
    if (kind === 'rejected' && code?.startsWith('Output')) {
      const scene = this.#sceneOfJob.get(task.id);
      if (scene === undefined || !this.#moderatedScenes.has(scene)) {
        if (scene !== undefined) this.#moderatedScenes.add(scene);
        return { kind: 'transient', code, message: `${message} (output moderation: one more take)` };
      }
    }
    if (kind) return { kind, code: code!, message };
    return classifyJobFailure(code, message);
  }

  #remember(jobId: string, idempotencyKey: string): void {
    const scene = parseTakeIdempotencyKey(idempotencyKey)?.sceneId ?? idempotencyKey;
    this.#sceneOfJob.set(jobId, scene);
    if (this.#sceneOfJob.size > MAX_REMEMBERED) this.#sceneOfJob.delete(this.#sceneOfJob.keys().next().value!);
    if (this.#moderatedScenes.size > MAX_REMEMBERED)
      this.#moderatedScenes.delete(this.#moderatedScenes.values().next().value!);
  }

  #invalid(code: string, message: string): ProviderError {
    return new ProviderError({ kind: 'invalid', code, provider: this.name, message: `${this.name}: ${message}` });
  }
}
