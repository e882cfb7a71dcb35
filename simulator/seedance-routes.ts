/**
 * The `seedance` contract: Seedance 2.0 on BytePlus ModelArk (../shared/contracts/seedance.md),
 * mounted under `/seedance/api/v3`, its video URLs (signed, 24 h, like Ark's TOS links) under
 * `/seedance/tos`. Ark has no idempotency key: every accepted create is a new task, billed by its
 * tokens once it succeeds (failures are free). Task objects echo `seed`, in the list too.
 *
 * Over 300 lines on purpose: one contract's routes and the task view they share (status walk,
 * signed URLs, billing) read best side by side; request parsing lives in seedance-input.ts.
 */
import { createHmac } from 'node:crypto';
import { ApiError, NotFoundError } from './errors';
import { bytesResponse, jsonResponse, type Route, type SimRequest, type SimResponse } from './http';
import { viewJob, type Job, type JobStore } from './jobs';
import { seedancePriceUsd } from './pricing';
import { deriveStream, type SeededRandom } from './prng';
import type { SimulatorState } from './state';
import { adaptiveRatio, invalid, optionalBoolean, parseContent, parseJson, RATIOS, type Ratio } from './seedance-input';

/** Model ids Ark knows (BytePlus and Volcengine spellings); an endpoint id `ep-...` also works. */
const MODELS = new Set([
  'dreamina-seedance-2-0-260128',
  'dreamina-seedance-2-0-fast-260128',
  'dreamina-seedance-2-0-mini-260615',
  'doubao-seedance-2-0-260128',
  'doubao-seedance-2-0-fast-260128',
]);

type Resolution = '480p' | '720p' | '1080p';
/** Output pixels per resolution and ratio; the twin's own table (the adapter keeps another). */
const DIMENSIONS: Record<Resolution, Record<Ratio, [number, number]>> = {
  '480p': {
    '16:9': [864, 480],
    '4:3': [736, 544],
    '1:1': [640, 640],
    '3:4': [544, 736],
    '9:16': [480, 864],
    '21:9': [960, 416],
  },
  '720p': {
    '16:9': [1280, 720],
    '4:3': [1112, 834],
    '1:1': [960, 960],
    '3:4': [834, 1112],
    '9:16': [720, 1280],
    '21:9': [1470, 630],
  },
  '1080p': {
    '16:9': [1920, 1080],
    '4:3': [1664, 1248],
    '1:1': [1440, 1440],
    '3:4': [1248, 1664],
    '9:16': [1080, 1920],
    '21:9': [2520, 1080],
  },
};
const FPS = 24;
const TOP_LEVEL = new Set([
  'model',
  'content',
  'resolution',
  'ratio',
  'duration',
  'seed',
  'generate_audio',
  'watermark',
  'return_last_frame',
  'callback_url',
  'execution_expires_after',
  'safety_identifier',
  'tools',
]);
/** 1.x features Ark refuses on 2.0. */
const NOT_ON_2_0 = new Set(['service_tier', 'draft', 'camera_fixed', 'frames']);
const MAX_PROMPT_WORDS = 1000;
const MAX_QUEUED = 120;
const DEFAULT_EXPIRES_AFTER_S = 172_800;
/** Video and last-frame URLs are signed for this long (seedance.md §6). */
export const SEEDANCE_URL_TTL_SECONDS = 86_400;
const LIST_WINDOW_MS = 7 * 86_400_000;
const CANCELLED_KEPT_MS = 86_400_000;
const TOS_KEY = 'seedance-twin-tos';

export type ArkStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

/** What a create asked for beyond the shared job fields. */
export interface ArkTask {
  model: string;
  seed: number;
  ratio: Ratio;
  resolution: Resolution;
  tokens: number;
  generateAudio: boolean;
  watermark: boolean;
  returnLastFrame: boolean;
  executionExpiresAfter: number;
  callbackUrl?: string;
  cancelledAtMs?: number;
}

/** Per simulator state, per reset (a reset makes a new JobStore): the twin's tasks and id stream. */
interface TwinStore {
  tasks: WeakMap<Job, ArkTask>;
  ids: SeededRandom;
  requests: number;
}
const stores = new WeakMap<JobStore, TwinStore>();

function storeOf(state: SimulatorState): TwinStore {
  let store = stores.get(state.jobs);
  if (!store) {
    store = { tasks: new WeakMap(), ids: deriveStream(state.config.seed, 'seedance-ids'), requests: 0 };
    stores.set(state.jobs, store);
  }
  return store;
}

export function arkTaskOf(state: SimulatorState, job: Job): ArkTask | undefined {
  return storeOf(state).tasks.get(job);
}

const toUnix = (ms: number) => Math.floor(ms / 1000);

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function mintId(state: SimulatorState): string {
  const store = storeOf(state);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (;;) {
    let tail = '';
    for (let i = 0; i < 5; i++) tail += alphabet[Math.floor(store.ids.next() * alphabet.length)];
    const id = `cgt-${stamp(state.now())}-${tail}`;
    if (!state.jobs.lookup(id)) return id;
  }
}

/** Ark's wire shape for every non-2xx answer; the scenario's generic codes in Ark's words. */
const ARK_CODES: Record<string, string> = {
  rate_limit_exceeded: 'RateLimitExceeded.EndpointRPMExceeded',
  concurrency_limit: 'QuotaExceeded',
  internal_error: 'InternalServiceError',
  bad_gateway: 'InternalServiceError',
  service_unavailable: 'ServerOverloaded',
  invalid_api_key: 'AuthenticationError',
  token_invalidated: 'AuthenticationError',
  access_denied: 'AccountOverdueError',
  route_not_found: 'InvalidEndpoint.NotFound',
  sentinel_block: 'InputImageSensitiveContentDetected.PrivacyInformation',
  invalid_json: 'InvalidParameter',
  request_too_large: 'InvalidParameter',
};
const ARK_MESSAGES: Record<string, string> = {
  AccountOverdueError: 'Your account has an overdue balance. Please top up and try again.',
  AuthenticationError: 'The API key or AK/SK in the request is missing or invalid.',
  'InputImageSensitiveContentDetected.PrivacyInformation':
    "The request failed because the input image 'content[1]' may contain real person.",
  QuotaExceeded: 'The number of queued or running tasks has exceeded the limit of your account.',
};

let renderedErrors = 0;
export function renderArkError(error: ApiError): unknown {
  const code = (error.code && ARK_CODES[error.code]) ?? error.code ?? 'InternalServiceError';
  const message = (error.code && ARK_CODES[error.code] && ARK_MESSAGES[code]) || error.message;
  renderedErrors += 1;
  return { error: { code, message: `${message} Request id: 0217${renderedErrors.toString(16).padStart(12, '0')}` } };
}

/** The status a task shows now: the job's phase, or cancelled, or expired once its execution window passed. */
export function statusOf(
  state: SimulatorState,
  job: Job,
  task: ArkTask,
): { status: ArkStatus; finishedAtMs: number | null } {
  if (task.cancelledAtMs !== undefined) return { status: 'cancelled', finishedAtMs: task.cancelledAtMs };
  const view = viewJob(job, state.now());
  if (view.phase === 'completed') return { status: 'succeeded', finishedAtMs: view.finishedAtMs };
  if (view.phase === 'failed') return { status: 'failed', finishedAtMs: view.finishedAtMs };
  const expiresAtMs = job.createdAtMs + task.executionExpiresAfter * 1000;
  if (state.now() >= expiresAtMs) return { status: 'expired', finishedAtMs: expiresAtMs };
  return { status: view.phase, finishedAtMs: null };
}

const TASK_ERRORS: Record<string, { code: string; message: string }> = {
  moderation_blocked: {
    code: 'OutputVideoSensitiveContentDetected',
    message: 'The request failed because the output video may contain sensitive information.',
  },
  processing_error: { code: 'InternalServiceError', message: 'The service encountered an unexpected internal error.' },
};

/** A signed URL like Ark's TOS links: `X-Tos-Date` + `X-Tos-Expires` seconds, HMAC over both. */
function signedVideoUrl(state: SimulatorState, job: Job, finishedAtMs: number, kind: 'video' | 'last-frame'): string {
  const date = `${stamp(finishedAtMs).slice(0, 8)}T${stamp(finishedAtMs).slice(8)}Z`;
  const ttl = state.scenario.contentTtlSeconds('seedance', 'video', SEEDANCE_URL_TTL_SECONDS);
  const expires = String(Math.round(ttl));
  const signature = createHmac('sha256', TOS_KEY)
    .update(`${job.id}\u0000${kind}\u0000${date}\u0000${expires}`)
    .digest('hex');
  const ext = kind === 'video' ? 'mp4' : 'png';
  const query = new URLSearchParams({
    'X-Tos-Algorithm': 'TOS4-HMAC-SHA256',
    'X-Tos-Date': date,
    'X-Tos-Expires': expires,
    'X-Tos-Signature': signature,
  });
  return `${state.baseUrl}/seedance/tos/${job.id}${kind === 'video' ? '' : '_last-frame'}.${ext}?${query}`;
}

/** The task object (seedance.md §3), as the query, the list and the callbacks show it. */
export function taskObject(state: SimulatorState, job: Job, task: ArkTask): Record<string, unknown> {
  const { status, finishedAtMs } = statusOf(state, job, task);
  const view = viewJob(job, state.now());
  const runningSinceMs = job.createdAtMs + job.durationMs * 0.1;
  const updatedAtMs = finishedAtMs ?? (status === 'running' ? runningSinceMs : job.createdAtMs);
  const done = status === 'succeeded' && finishedAtMs !== null;
  const error =
    status === 'failed' ? (TASK_ERRORS[view.error?.code ?? 'processing_error'] ?? TASK_ERRORS.processing_error) : null;
  return {
    id: job.id,
    model: task.model,
    status,
    ...(done
      ? {
          content: {
            video_url: signedVideoUrl(state, job, finishedAtMs, 'video'),
            ...(task.returnLastFrame ? { last_frame_url: signedVideoUrl(state, job, finishedAtMs, 'last-frame') } : {}),
          },
          usage: { completion_tokens: task.tokens, total_tokens: task.tokens },
        }
      : {}),
    created_at: toUnix(job.createdAtMs),
    updated_at: toUnix(updatedAtMs),
    seed: task.seed,
    resolution: task.resolution,
    ratio: task.ratio,
    duration: job.seconds,
    framespersecond: FPS,
    generate_audio: task.generateAudio,
    draft: false,
    service_tier: 'default',
    execution_expires_after: task.executionExpiresAfter,
    priority: 0,
    error: error ? { code: error.code, message: `${error.message} Request id: 0217${job.id.slice(-5)}` } : null,
  };
}

function findTask(state: SimulatorState, id: string): { job: Job; task: ArkTask } {
  const job = state.jobs.get('seedance', id);
  const task = job ? arkTaskOf(state, job) : undefined;
  const vanished = task?.cancelledAtMs !== undefined && state.now() - task.cancelledAtMs > CANCELLED_KEPT_MS;
  if (!job || !task || vanished)
    throw new NotFoundError('ResourceNotFound', `The specified task ${id} is not found.`, 'id');
  return { job, task };
}

function createTask(state: SimulatorState, req: SimRequest): SimResponse {
  const fields = parseJson(req);
  for (const key of Object.keys(fields)) {
    if (NOT_ON_2_0.has(key)) throw invalid(key, 'not supported by Seedance 2.0');
    if (!TOP_LEVEL.has(key)) throw invalid(key, 'unknown parameter');
  }
  const model = fields.model;
  if (model === undefined) throw new ApiError(400, 'MissingParameter', 'The request is missing `model`.', 'model');
  if (typeof model !== 'string' || !(MODELS.has(model) || /^ep-[a-z0-9-]+$/.test(model)))
    throw new ApiError(
      404,
      'InvalidEndpoint.NotFound',
      `The model or endpoint ${String(model)} does not exist or you do not have access to it.`,
      'model',
    );
  const content = parseContent(state, fields.content);
  const words = content.text.split(/\s+/).filter(Boolean).length;
  if (words > MAX_PROMPT_WORDS)
    throw invalid('content.text', `the prompt has ${words} words, over ${MAX_PROMPT_WORDS}`);
  if (state.scenario.rejects(content.text))
    throw new ApiError(
      400,
      'InputTextSensitiveContentDetected',
      'The request failed because the input text may contain sensitive information.',
      'content',
    );

  const resolution = (fields.resolution ?? '720p') as Resolution;
  if (!(resolution in DIMENSIONS)) throw invalid('resolution', 'expected 480p, 720p or 1080p');
  if (resolution === '1080p' && /-(fast|mini)-/.test(model))
    throw invalid('resolution', `${model} renders 480p and 720p only`);
  const ratioField = fields.ratio ?? 'adaptive';
  if (ratioField !== 'adaptive' && !(RATIOS as readonly unknown[]).includes(ratioField))
    throw invalid('ratio', `expected one of ${RATIOS.join(', ')} or adaptive`);
  const ratio = ratioField === 'adaptive' ? adaptiveRatio(content.firstAspect) : (ratioField as Ratio);
  const durationField = fields.duration ?? 5;
  if (
    !Number.isInteger(durationField) ||
    ((durationField as number) !== -1 && ((durationField as number) < 4 || (durationField as number) > 15))
  )
    throw invalid('duration', 'expected an integer from 4 to 15, or -1');
  const seconds = durationField === -1 ? 5 + Math.floor(storeOf(state).ids.next() * 11) : (durationField as number);
  const seedField = fields.seed ?? -1;
  if (!Number.isInteger(seedField) || (seedField as number) < -1 || (seedField as number) > 0xffffffff)
    throw invalid('seed', 'expected an integer from -1 to 4294967295');
  const seed = seedField === -1 ? Math.floor(storeOf(state).ids.next() * 0x1_0000_0000) : (seedField as number);
  const callbackUrl = fields.callback_url;
  if (callbackUrl !== undefined && (typeof callbackUrl !== 'string' || !/^https?:\/\/\S+$/.test(callbackUrl)))
    throw invalid('callback_url', 'expected an http(s) URL');
  const expiresAfter = fields.execution_expires_after ?? DEFAULT_EXPIRES_AFTER_S;
  if (!Number.isInteger(expiresAfter) || (expiresAfter as number) < 3600 || (expiresAfter as number) > 259_200)
    throw invalid('execution_expires_after', 'expected an integer from 3600 to 259200');

  const queued = state.jobs.all('seedance').filter((job) => {
    const task = arkTaskOf(state, job);
    return !job.deleted && task && statusOf(state, job, task).status === 'queued';
  }).length;
  if (queued >= MAX_QUEUED)
    throw new ApiError(429, 'QuotaExceeded', `Your account has ${queued} queued tasks, the limit is ${MAX_QUEUED}.`);

  const [width, height] = DIMENSIONS[resolution][ratio];
  const inputVideoSeconds = 0; // the twin cannot measure referenced videos: billed as output only
  const tokens = Math.ceil(((seconds + inputVideoSeconds) * width * height * FPS) / 1024);
  const draft = {
    id: mintId(state),
    prompt: content.text,
    seconds,
    size: `${width}x${height}`,
    model,
    // what the video shows as its cast: the references, by their order
    characterIds: content.images.map(
      (image, i) => `${image.role === 'reference_image' ? 'Image' : image.role} ${i + 1}`,
    ),
  };
  const { job } = state.submit('seedance', 'create', draft, seedancePriceUsd(tokens));
  const task: ArkTask = {
    model,
    seed,
    ratio,
    resolution,
    tokens,
    generateAudio: optionalBoolean(fields, 'generate_audio', true),
    watermark: optionalBoolean(fields, 'watermark', false),
    returnLastFrame: optionalBoolean(fields, 'return_last_frame', false),
    executionExpiresAfter: expiresAfter as number,
    ...(typeof callbackUrl === 'string' ? { callbackUrl } : {}),
  };
  storeOf(state).tasks.set(job, task);
  listeners.get(state)?.(job, task);
  return jsonResponse(200, { id: job.id });
}

/** Told of every accepted task, per simulator (the callback sender schedules its deliveries). */
export type TaskListener = (job: Job, task: ArkTask) => void;
const listeners = new WeakMap<SimulatorState, TaskListener>();

function queryTask(state: SimulatorState, req: SimRequest): SimResponse {
  const { job, task } = findTask(state, req.params.id);
  return jsonResponse(200, taskObject(state, job, task));
}

function listTasks(state: SimulatorState, req: SimRequest): SimResponse {
  const query = req.url.searchParams;
  const int = (name: string, fallback: number, max: number) => {
    const text = query.get(name);
    const value = text === null ? fallback : Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw invalid(name, `expected an integer from 1 to ${max}`);
    return value;
  };
  const pageNum = int('page_num', 1, 1_000_000);
  const pageSize = int('page_size', 10, 500);
  const statuses = query.getAll('filter.status');
  const ids = new Set(query.getAll('filter.task_ids'));
  const model = query.get('filter.model');
  const tier = query.get('filter.service_tier');
  const since = state.now() - LIST_WINDOW_MS;
  const matching = state.jobs
    .all('seedance')
    .filter((job) => !job.deleted && job.createdAtMs >= since)
    .flatMap((job) => {
      const task = arkTaskOf(state, job);
      if (!task) return [];
      if (task.cancelledAtMs !== undefined && state.now() - task.cancelledAtMs > CANCELLED_KEPT_MS) return [];
      const object = taskObject(state, job, task);
      if (statuses.length && !statuses.includes(object.status as string)) return [];
      if (ids.size && !ids.has(job.id)) return [];
      if (model && task.model !== model) return [];
      if (tier && tier !== 'default') return [];
      return [object];
    })
    .reverse(); // newest first
  const items = matching.slice((pageNum - 1) * pageSize, pageNum * pageSize);
  return jsonResponse(200, { total: matching.length, items });
}

/** queued → cancelled; running or cancelled → refused; finished → the record is deleted. */
function cancelTask(state: SimulatorState, req: SimRequest): SimResponse {
  const { job, task } = findTask(state, req.params.id);
  const { status } = statusOf(state, job, task);
  if (status === 'running' || status === 'cancelled')
    throw new ApiError(
      400,
      'InvalidParameter.TaskStatus',
      `The task ${job.id} is ${status} and cannot be cancelled or deleted.`,
      'id',
    );
  if (status === 'queued') {
    task.cancelledAtMs = state.now();
    // never runs now, and a cancelled task is not billed (the ledger frees failed seedance jobs)
    job.outcome = 'processing_error';
    job.durationMs = 0;
    delete job.stuck;
    return jsonResponse(200, {});
  }
  job.deleted = true;
  return jsonResponse(200, {});
}

/** `GET /seedance/tos/{id}.mp4?X-Tos-...`: no key, but the signature and its 24 h must hold. */
export async function serveSeedanceVideo(
  state: SimulatorState,
  name: string,
  query: URLSearchParams,
): Promise<SimResponse> {
  const match = /^(cgt-[0-9]{14}-[a-z0-9]{5})(_last-frame)?\.(mp4|png)$/.exec(name);
  const job = match ? state.jobs.get('seedance', match[1]) : undefined;
  const task = job ? arkTaskOf(state, job) : undefined;
  const finished = job && task ? statusOf(state, job, task) : undefined;
  if (!match || !job || !task || finished?.status !== 'succeeded' || finished.finishedAtMs === null)
    return tosError(404, 'NoSuchKey', 'The specified key does not exist.');
  const kind = match[2] ? 'last-frame' : 'video';
  const date = query.get('X-Tos-Date') ?? '';
  const expires = query.get('X-Tos-Expires') ?? '';
  const expected = createHmac('sha256', TOS_KEY)
    .update(`${job.id}\u0000${kind}\u0000${date}\u0000${expires}`)
    .digest('hex');
  if (query.get('X-Tos-Signature') !== expected)
    return tosError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match.');
  const signedAt = Date.parse(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  if (state.now() >= signedAt + Number(expires) * 1000 + 999)
    return tosError(403, 'AccessDenied', 'Request has expired.');
  const subject = state.mediaSubject(job);
  if (kind === 'last-frame') return bytesResponse(await state.media.thumbnail(subject), 'image/webp');
  return bytesResponse(await state.media.video(subject), 'video/mp4');
}

/** TOS answers in XML, like S3. */
function tosError(status: number, code: string, message: string): SimResponse {
  return {
    status,
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}

/** Routes below `/seedance/api/v3` that need the Ark key; `onCreated` hears of every accepted task. */
export function seedanceRoutes(state: SimulatorState, onCreated?: TaskListener): Route[] {
  if (onCreated) listeners.set(state, onCreated);
  const on = (handler: (s: SimulatorState, r: SimRequest) => SimResponse) => (req: SimRequest) => handler(state, req);
  const tasks = /^\/contents\/generations\/tasks$/;
  const task = /^\/contents\/generations\/tasks\/(?<id>[^/]+)$/;
  return [
    { name: 'create', method: 'POST', pattern: tasks, handle: on(createTask) },
    { name: 'list', method: 'GET', pattern: tasks, handle: on(listTasks) },
    { name: 'query', method: 'GET', pattern: task, handle: on(queryTask) },
    { name: 'cancel', method: 'DELETE', pattern: task, handle: on(cancelTask) },
  ];
}
