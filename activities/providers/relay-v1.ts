/**
 * The `relay-v1` contract: third-party relays driving the consumer Sora app. They hold reusable
 * characters (`@char_...` in prompts), bill per video and change without notice, so every body
 * is checked against the contract and anything unexpected becomes a classified ProviderError.
 */
import { z } from 'zod';
import type { ProviderProfile } from '../../workflows/types';
import {
  classifyHttpFailure,
  classifyJobFailure,
  classifyThrown,
  contractViolation,
  ProviderError,
  splitCodedMessage,
} from './errors';
import type {
  AccountCheck,
  CharacterClip,
  CreatedCharacter,
  JobState,
  JobStatus,
  SubmitRequest,
  VideoProvider,
} from './provider';
import { refuseUnsupported, unsupportedReason } from './request-checks';
import { fetchAsset } from './asset-download';
import { mentionFor } from '../../workflows/prompt';
import { renderMentions } from './mentions';
import { bearerRequest } from './bearer-request';
import { jsonOrUndefined } from './json-body';

export interface RelayV1Options {
  profile: ProviderProfile;
  /** e.g. `https://relay.example/api` (routes are `{baseUrl}/sora/...`). */
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
}

const characterCreatedBody = z.object({ character_id: z.string().min(1) });
const generateBody = z.object({ task_id: z.string().min(1) });
/** Only its shape matters: the answer proves the key works. */
const characterListBody = z.object({ characters: z.array(z.unknown()) });
const taskBody = z.object({
  task_id: z.string().min(1),
  status: z.enum(['queued', 'processing', 'completed', 'failed']),
  progress: z.number().min(0).max(100).nullish(),
  video_url: z.url({ protocol: /^https?$/ }).nullish(),
  error: z.string().nullish(),
});
type TaskBody = z.infer<typeof taskBody>;

const errorBody = z.object({
  error: z.union([z.object({ code: z.string().nullish(), message: z.string().nullish() }), z.string()]),
});

const STATE_BY_STATUS: Record<TaskBody['status'], JobState> = {
  queued: 'queued',
  processing: 'running',
  completed: 'completed',
  failed: 'failed',
};

interface RelayCall<T> {
  method: 'GET' | 'POST';
  path: string;
  /** Names the call in errors: "generate", "task status". */
  what: string;
  schema: z.ZodType<T>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The path names a task or character id: a 404 then means "unknown id", not "route gone". */
  addressesId?: boolean;
}

export class RelayV1Provider implements VideoProvider {
  readonly contract = 'relay-v1' as const;
  readonly name: string;
  readonly profile: ProviderProfile;
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;

  constructor(options: RelayV1Options) {
    this.profile = options.profile;
    this.name = options.profile.name;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs;
  }

  async createCharacter(input: { name: string; description: string; clip: CharacterClip }): Promise<CreatedCharacter> {
    const { character_id } = await this.#call({
      method: 'POST',
      path: '/sora/characters',
      what: 'character creation',
      schema: characterCreatedBody,
      // relays fetch the clip themselves, so they need its public URL, not our file
      body: { video_url: input.clip.url, name: input.name, description: input.description },
    });
    return mentionable(character_id);
  }

  async extractCharacter(input: { name: string; taskId: string }): Promise<CreatedCharacter> {
    const { character_id } = await this.#call({
      method: 'POST',
      path: '/sora/characters/extract',
      what: 'character extraction',
      schema: characterCreatedBody,
      body: { task_id: input.taskId, name: input.name },
    });
    return mentionable(character_id);
  }

  async submit(request: SubmitRequest): Promise<{ jobId: string }> {
    this.#checkSupported(request);
    const { task_id } = await this.#call({
      method: 'POST',
      path: '/sora/generate',
      what: 'generate',
      schema: generateBody,
      body: { prompt: renderedPrompt(request), duration: request.seconds },
      headers: { 'Idempotency-Key': request.idempotencyKey },
    });
    return { jobId: task_id };
  }

  /** The character list costs nothing and needs a valid key; relays tell nothing of balances. */
  async checkAccount(): Promise<AccountCheck> {
    await this.#call({ method: 'GET', path: '/sora/characters', what: 'character list', schema: characterListBody });
    return {};
  }

  async getJob(jobId: string): Promise<JobStatus> {
    return toJobStatus(await this.#getTask(jobId));
  }

  async download(jobId: string): Promise<AsyncIterable<Uint8Array>> {
    // Video URLs expire: always take a fresh one from the task right before fetching.
    const task = await this.#getTask(jobId);
    if (task.status !== 'completed') {
      throw new ProviderError({
        kind: 'invalid',
        code: 'job_not_completed',
        provider: this.name,
        message: `${this.name}: task ${jobId} is ${task.status}, not completed; wait for it before downloading`,
      });
    }
    if (!task.video_url) throw contractViolation(this.name, `task ${jobId}`, 'completed without video_url');
    return fetchAsset({
      provider: this.name,
      url: task.video_url,
      timeoutMs: this.#timeoutMs,
      apiBaseUrl: this.#baseUrl,
      apiKey: this.#apiKey,
    });
  }

  #getTask(jobId: string): Promise<TaskBody> {
    return this.#call({
      method: 'GET',
      path: `/sora/tasks/${encodeURIComponent(jobId)}`,
      what: 'task status',
      schema: taskBody,
      addressesId: true,
    });
  }

  #checkSupported(request: SubmitRequest): void {
    refuseUnsupported(this.name, [
      unsupportedReason(this.profile, request),
      !request.characters && request.characterId && !request.prompt.includes(`@${request.characterId}`)
        ? // without the mention the relay would silently render someone else, and bill for it
          `prompt does not mention @${request.characterId}`
        : undefined,
    ]);
  }

  async #call<T>(call: RelayCall<T>): Promise<T> {
    let response: Response;
    try {
      response = await bearerRequest(`${this.#baseUrl}${call.path}`, {
        method: call.method,
        apiKey: this.#apiKey,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        ...(call.headers ? { headers: call.headers } : {}),
        timeoutMs: this.#timeoutMs,
      });
    } catch (err) {
      throw classifyThrown(this.name, err, [this.#apiKey]);
    }
    if (!response.ok) throw await this.#failure(response, call.addressesId ?? false);
    let json: unknown;
    try {
      json = await response.json();
    } catch (err) {
      // a body cut off by the timeout is a network failure; anything else is not JSON at all
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
        throw classifyThrown(this.name, err);
      throw contractViolation(this.name, call.what, 'response is not JSON');
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) throw contractViolation(this.name, call.what, parsed.error);
    return parsed.data;
  }

  async #failure(response: Response, addressesId: boolean): Promise<ProviderError> {
    const text = await response.text().catch(() => '');
    const json = jsonOrUndefined(text);
    const parsed = errorBody.safeParse(json);
    let code: string | undefined;
    let message: string | undefined;
    if (parsed.success) {
      const { error } = parsed.data;
      const fields = typeof error === 'string' ? splitCodedMessage(error) : error;
      code = fields.code ?? undefined;
      message = fields.message ?? undefined;
    }
    return classifyHttpFailure({
      provider: this.name,
      status: response.status,
      ...(code ? { code } : {}),
      message: message ?? `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      retryAfter: response.headers.get('retry-after'),
      addressesId,
      contractShapedBody: parsed.success,
      secrets: [this.#apiKey],
    });
  }
}

function mentionable(characterId: string): CreatedCharacter {
  return { id: characterId, mention: mentionFor('relay-v1', characterId, '') };
}

function toJobStatus(task: TaskBody): JobStatus {
  const state = STATE_BY_STATUS[task.status];
  const progress = state === 'completed' ? 100 : Math.round(task.progress ?? 0);
  if (state !== 'failed') return { jobId: task.task_id, state, progress };
  const { code, message } = splitCodedMessage(task.error ?? '');
  return { jobId: task.task_id, state, progress, error: classifyJobFailure(code, message || undefined) };
}

/** One `@id` per held character, the rest described; older scenes' prompts arrive rendered. */
function renderedPrompt(request: SubmitRequest): string {
  return request.characters
    ? renderMentions(request.prompt, request.characters, (c) => c.ref?.mention)
    : request.prompt;
}
