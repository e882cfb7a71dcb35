/**
 * The Kling contract (contracts/kling.md): video on the current API (model in the path,
 * `contents`/`settings`/`options`, Bearer API key), characters as elements on the legacy element
 * endpoints (one per character, from its frontal still and up to three others). The take's
 * idempotency key is the task's `external_task_id`: Kling refuses a reused one, so a retried
 * attempt looks the task up by it instead of buying it twice.
 *
 * Over 300 lines on purpose: the adapter class keeps the batcher and the element waits across its
 * methods; its HTTP call, wire shapes, prompt and task helpers are in kling-*.ts.
 */
import { CHARACTER_REVOKED } from '../../workflows/failures';
import type { ProviderProfile } from '../../workflows/types';
import { fetchAsset } from './asset-download';
import { contractViolation, ProviderError } from './errors';
import type { KlingSettings } from './kling-config';
import { klingStill } from './kling-images';
import { KLING_MODELS, KLING_SIZES, type KlingModel } from './kling-models';
import {
  createdTask,
  DUPLICATE_EXTERNAL_ID,
  elementTask,
  elementTaskCreated,
  taskList,
  type ElementTask,
  type TaskRecord,
} from './kling-wire';
import { KlingHttp } from './kling-http';
import { heldElements, klingMention, renderedPrompt } from './kling-prompt';
import { elementExternalId, elementOf, klingTaskFailure, TaskBatcher, toJobStatus } from './kling-tasks';
import { otherModelReason, refuseUnsupported, unsupportedReason } from './request-checks';
import type {
  AccountCheck,
  CharacterClip,
  CreatedCharacter,
  JobStatus,
  LocalFile,
  SubmitRequest,
  VideoProvider,
} from './provider';

export interface KlingOptions {
  profile: ProviderProfile;
  /** e.g. `https://api-singapore.klingai.com`. */
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
  settings: KlingSettings;
  /** How often createCharacter looks at the element task, and for how long (default 1 s, 30 s). */
  elementPollMs?: number;
  elementWaitMs?: number;
  /** Status reads arriving within this window share one `GET /tasks` (default 25 ms). */
  batchWindowMs?: number;
}

/** `{type: "prompt"}` text limit (§3a). */
export const KLING_MAX_PROMPT = 3072;
/** `GET /tasks` takes at most 20 ids (§4). */
const TASKS_PER_QUERY = 20;
const ELEMENT_NAME_MAX = 20;
const ELEMENT_DESCRIPTION_MAX = 100;
/** A duplicate external id whose task is younger than this is an earlier attempt's, not an older series'. */
const OWN_TASK_WINDOW_MS = 15 * 60_000;

export class KlingProvider implements VideoProvider {
  readonly contract = 'kling' as const;
  readonly name: string;
  readonly profile: ProviderProfile;
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #model: string;
  readonly #spec: KlingModel;
  readonly #timeoutMs: number;
  readonly #http: KlingHttp;
  readonly #settings: KlingSettings;
  readonly #elementPollMs: number;
  readonly #elementWaitMs: number;
  readonly #batch: TaskBatcher;

  constructor(options: KlingOptions) {
    this.profile = options.profile;
    this.name = options.profile.name;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#model = options.model;
    const spec = KLING_MODELS[options.model];
    if (!spec) throw new Error(`${this.name}: unknown Kling model ${options.model}`);
    this.#spec = spec;
    this.#timeoutMs = options.timeoutMs;
    this.#http = new KlingHttp(this.name, this.#baseUrl, this.#apiKey, this.#timeoutMs);
    this.#settings = options.settings;
    this.#elementPollMs = options.elementPollMs ?? 1_000;
    this.#elementWaitMs = options.elementWaitMs ?? 30_000;
    this.#batch = new TaskBatcher((ids) => this.#tasks('task_ids', ids), options.batchWindowMs ?? 25);
  }

  /**
   * One element per character: a multi-image element from its frontal still and up to three
   * others, or a video element from a 3-8 s clip when there are too few stills. The external id
   * is derived from the material, so a retried attempt (or another series with the same
   * character) finds the element instead of making a second one.
   */
  async createCharacter(input: {
    name: string;
    description: string;
    clip: CharacterClip;
    stills: LocalFile[];
  }): Promise<CreatedCharacter> {
    const external = elementExternalId(input);
    const material =
      input.stills.length >= 2
        ? {
            reference_type: 'image_refer',
            element_image_list: {
              frontal_image: await klingStill(this.name, input.stills[0]),
              refer_images: await Promise.all(
                input.stills.slice(1, 4).map(async (still) => ({ image_url: await klingStill(this.name, still) })),
              ),
            },
          }
        : { reference_type: 'video_refer', element_video_list: { refer_videos: [{ video_url: input.clip.url }] } };
    const body = (externalTaskId: string) => ({
      element_name: input.name.slice(0, ELEMENT_NAME_MAX),
      element_description: input.description.slice(0, ELEMENT_DESCRIPTION_MAX),
      ...material,
      tag_list: [{ tag_id: 'o_102' }], // Character
      external_task_id: externalTaskId,
    });
    let task = await this.#createElement(body(external));
    if (task === undefined) {
      // Made before (an earlier attempt, another series): use it unless it failed or was deleted since.
      const earlier = await this.#elementTask(external);
      const usable = earlier.task_status !== 'failed' && !elementOf(earlier)?.deleted;
      task = usable ? earlier.task_id : await this.#createElement(body(`${external}-${earlier.task_id}`));
      if (task === undefined) task = (await this.#elementTask(`${external}-${earlier.task_id}`)).task_id;
    }
    const done = await this.#awaitElement(task);
    const element = elementOf(done);
    if (!element) throw contractViolation(this.name, `element task ${task}`, 'succeeded without an element');
    if (element.deleted)
      throw new ProviderError({
        kind: 'unavailable',
        code: CHARACTER_REVOKED,
        provider: this.name,
        message: `${this.name}: element ${element.id} was deleted or revoked as soon as it was made`,
      });
    return { id: element.id, mention: klingMention(element.id), hold: 'kept' };
  }

  async submit(request: SubmitRequest): Promise<{ jobId: string }> {
    this.#checkSupported(request);
    const body = this.#createBody(request, request.idempotencyKey);
    const created = await this.#createVideo(body);
    if (created !== undefined) return { jobId: created };
    // Refused as a duplicate: an earlier attempt's task (ours), or an older series' of the same name.
    const earlier = (await this.#tasks('external_task_ids', [request.idempotencyKey]))[0];
    if (!earlier) throw this.#duplicateWithoutTask(request.idempotencyKey);
    if (isRecent(earlier)) return { jobId: earlier.id };
    const fresh = staleKeyOf(request.idempotencyKey, earlier.id);
    const retried = await this.#createVideo(this.#createBody(request, fresh));
    if (retried !== undefined) return { jobId: retried };
    const own = (await this.#tasks('external_task_ids', [fresh]))[0];
    if (!own) throw this.#duplicateWithoutTask(fresh);
    return { jobId: own.id };
  }

  /** The task this take's key (or its stand-in after an older series' task) created since `notBefore`. */
  async findJob(request: SubmitRequest, notBefore: Date): Promise<string | undefined> {
    const ours = (task: TaskRecord | undefined) =>
      task && (task.create_time ?? Infinity) >= notBefore.getTime() ? task.id : undefined;
    const byKey = (await this.#tasks('external_task_ids', [request.idempotencyKey]))[0];
    if (!byKey) return undefined;
    if (ours(byKey)) return byKey.id;
    return ours((await this.#tasks('external_task_ids', [staleKeyOf(request.idempotencyKey, byKey.id)]))[0]);
  }

  /**
   * A task query by an external id nobody uses costs nothing and needs a valid key. Kling says
   * it cannot pay only when a create is refused (1102), so the account is not told here.
   */
  async checkAccount(): Promise<AccountCheck> {
    await this.#tasks('external_task_ids', ['sora-series-account-check']);
    return {};
  }

  async getJob(jobId: string): Promise<JobStatus> {
    const task = await this.#batch.get(jobId);
    if (!task) {
      // Not listed (yet, or any more): polling again is cheap, submitting again would not be.
      throw new ProviderError({
        kind: 'transient',
        code: 'task_not_listed',
        provider: this.name,
        message: `${this.name}: task ${jobId} is not in GET /tasks`,
      });
    }
    return toJobStatus(task);
  }

  async download(jobId: string): Promise<AsyncIterable<Uint8Array>> {
    // Result URLs are signed and expire (30 days): read a fresh one right before fetching.
    const [task] = await this.#tasks('task_ids', [jobId]);
    if (!task || task.status !== 'succeeded') {
      throw new ProviderError({
        kind: 'invalid',
        code: 'job_not_completed',
        provider: this.name,
        message: `${this.name}: task ${jobId} is ${task?.status ?? 'unknown'}, not succeeded; wait for it before downloading`,
      });
    }
    const url = task.outputs?.find((o) => o.type === 'video' && o.url)?.url;
    if (!url) throw contractViolation(this.name, `task ${jobId}`, 'succeeded without a video output url');
    return fetchAsset({ provider: this.name, url, timeoutMs: this.#timeoutMs }); // the CDN never gets the key
  }

  #checkSupported(request: SubmitRequest): void {
    const prompt = renderedPrompt(request);
    refuseUnsupported(this.name, [
      unsupportedReason(this.profile, request),
      !KLING_SIZES[request.size] ? `size ${request.size} has no Kling aspect ratio and resolution` : undefined,
      otherModelReason(request.model, this.#model),
      prompt.length > KLING_MAX_PROMPT
        ? `the prompt is ${prompt.length} characters with its mentions; Kling takes at most ${KLING_MAX_PROMPT}`
        : undefined,
    ]);
  }

  #createBody(request: SubmitRequest, externalTaskId: string): unknown {
    const { aspectRatio, resolution } = KLING_SIZES[request.size];
    return {
      contents: [
        { type: 'prompt', text: renderedPrompt(request) },
        ...heldElements(request).map((elementId) => ({
          type: 'element',
          element_id: elementId,
          id: `element_${elementId}`,
        })),
      ],
      settings: {
        resolution,
        aspect_ratio: aspectRatio,
        duration: request.seconds,
        audio: this.#settings.audio,
        multi_shot: false,
      },
      options: {
        external_task_id: externalTaskId,
        ...(this.#settings.callbackUrl ? { callback_url: this.#settings.callbackUrl } : {}),
        watermark_info: { enabled: false },
      },
    };
  }

  /** The new task's id, or undefined when Kling refused the external id as already used. */
  async #createVideo(body: unknown): Promise<string | undefined> {
    return this.#unlessDuplicate(async () => {
      const task = await this.#http.call({
        method: 'POST',
        path: `/${this.#spec.product}/${this.#model}`,
        what: 'video creation',
        schema: createdTask,
        body,
      });
      return task.id;
    });
  }

  async #createElement(body: unknown): Promise<string | undefined> {
    return this.#unlessDuplicate(async () => {
      const task = await this.#http.call({
        method: 'POST',
        path: '/v1/general/advanced-custom-elements',
        what: 'element creation',
        schema: elementTaskCreated,
        body,
      });
      return task.task_id;
    });
  }

  async #unlessDuplicate(create: () => Promise<string>): Promise<string | undefined> {
    try {
      return await create();
    } catch (err) {
      if (err instanceof ProviderError && err.code === DUPLICATE_EXTERNAL_ID) return undefined;
      throw err;
    }
  }

  #duplicateWithoutTask(externalId: string): ProviderError {
    // Refused as used, yet not listed: likely a moment of lag; the next attempt looks again.
    return new ProviderError({
      kind: 'transient',
      code: 'duplicate_not_listed',
      provider: this.name,
      message: `${this.name}: external_task_id ${externalId} is taken but its task is not listed yet`,
    });
  }

  #elementTask(idOrExternal: string): Promise<ElementTask> {
    return this.#http.call({
      method: 'GET',
      path: `/v1/general/advanced-custom-elements/${encodeURIComponent(idOrExternal)}`,
      what: 'element task',
      schema: elementTask,
    });
  }

  /** Polls the element task until it ends; a slow one is left to the activity's next attempt (found by its external id). */
  async #awaitElement(taskId: string): Promise<ElementTask> {
    const deadline = Date.now() + this.#elementWaitMs;
    for (;;) {
      const task = await this.#elementTask(taskId);
      if (task.task_status === 'succeeded') return task;
      if (task.task_status === 'failed') {
        const reason = task.task_status_msg ?? undefined;
        const failure = klingTaskFailure(reason);
        throw new ProviderError({
          kind: failure.kind,
          code: failure.code,
          provider: this.name,
          message: `${this.name}: element creation failed: ${failure.message}`,
        });
      }
      if (Date.now() + this.#elementPollMs > deadline) {
        throw new ProviderError({
          kind: 'transient',
          code: 'element_pending',
          provider: this.name,
          message: `${this.name}: element task ${taskId} still ${task.task_status} after ${this.#elementWaitMs} ms`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, this.#elementPollMs));
    }
  }

  /** `GET /tasks?<task_ids|external_task_ids>=a,b` in chunks of 20. */
  async #tasks(by: 'task_ids' | 'external_task_ids', ids: string[]): Promise<TaskRecord[]> {
    const found: TaskRecord[] = [];
    for (let i = 0; i < ids.length; i += TASKS_PER_QUERY) {
      const chunk = ids.slice(i, i + TASKS_PER_QUERY);
      found.push(
        ...(await this.#http.call({
          method: 'GET',
          path: `/tasks?${by}=${chunk.map(encodeURIComponent).join(',')}`,
          what: 'task query',
          schema: taskList,
        })),
      );
    }
    return found;
  }
}

function isRecent(task: TaskRecord): boolean {
  return task.create_time == null || Date.now() - task.create_time < OWN_TASK_WINDOW_MS;
}

/** The stand-in key for a take whose own key an older series (same name) used up on this account. */
function staleKeyOf(key: string, staleTaskId: string): string {
  return `${key}~${staleTaskId}`;
}
