/**
 * The Kling twin (contracts/kling.md), mounted under `/kling`: new-standard video creation
 * (`POST /omni-video/<model>`, `contents`/`settings`/`options`), `GET|POST /tasks`, the legacy
 * element endpoints (`/v1/general/...`) and the legacy task query, with Kling's envelopes,
 * numeric ids, status words, error codes and units. External ids are unique per account,
 * forever: a reused one is refused (400/1201), as live Kling does. Result URLs are signed and
 * cleared after 30 days.
 *
 * Over 300 lines on purpose: Kling's two envelope families (new-standard tasks and legacy
 * elements) answer from one store and render one record shape; splitting them would split the
 * twin's one view of a task.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { klingExpiresAtMs, signedFileUrlKey } from './kling-files';
import { elementStatus, type ElementTaskRecord, type KlingOrder, type KlingTaskStatus } from './kling-account';
import type { KlingCallbacks } from './kling-callbacks';
import { klingError, renderKlingError } from './kling-errors';
import type { ContractGateway } from './gateway';
import { jsonResponse, type Route, type SimRequest, type SimResponse } from './http';
import { viewJob, type Job } from './jobs';
import { AuthenticationError } from './errors';
import { KLING_UNIT_USD, klingUnits } from './pricing';
import type { SimulatorState } from './state';

const MODELS: Readonly<Record<string, { seconds: [number, number]; resolutions: string[] }>> = {
  'kling-3.0-omni': { seconds: [3, 15], resolutions: ['720p', '1080p', '4k'] },
  'kling-o1': { seconds: [3, 10], resolutions: ['720p', '1080p'] },
};
const SIZES: Readonly<Record<string, Record<string, string>>> = {
  '720p': { '16:9': '1280x720', '9:16': '720x1280', '1:1': '720x720' },
  '1080p': { '16:9': '1920x1080', '9:16': '1080x1920', '1:1': '1080x1080' },
  '4k': { '16:9': '3840x2160', '9:16': '2160x3840', '1:1': '2160x2160' },
};
const MAX_PROMPT = 3072;
const MAX_ELEMENTS = 7;
const MAX_IDS_PER_QUERY = 20;
const STATUS_BY_PHASE = {
  queued: 'submitted',
  running: 'processing',
  completed: 'succeeded',
  failed: 'failed',
} as const;
/** What a failed task's `message` says (failed records carry no business code, S11). */
const FAILURE_MESSAGES: Record<string, string> = {
  moderation_blocked: 'Failure to pass the risk control system: the output violates the content policy',
  processing_error: 'Task failed: the server is under heavy load, please try again later',
};

type Fields = Record<string, unknown>;

const ok = (data?: unknown): SimResponse =>
  jsonResponse(200, {
    code: 0,
    message: 'SUCCEED',
    request_id: randomUUID(),
    ...(data === undefined ? {} : { data }),
  });

const invalid = (message: string) => klingError(400, 1201, message);

function body(req: SimRequest): Fields {
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8') || '{}');
  } catch {
    throw klingError(400, 1200, 'Invalid request: the body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw klingError(400, 1200, 'Invalid request: the body must be a JSON object');
  return value as Fields;
}

function optionalString(fields: Fields, name: string, max?: number): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid parameter: ${name} must be a string`);
  if (max !== undefined && value.length > max) throw invalid(`Invalid parameter: ${name} exceeds ${max} characters`);
  return value;
}

function requiredString(fields: Fields, name: string, max?: number): string {
  const value = optionalString(fields, name, max);
  if (!value) throw invalid(`Invalid parameter: ${name} is required`);
  return value;
}

function object(value: unknown, name: string): Fields {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`Invalid parameter: ${name} must be an object`);
  return value as Fields;
}

/** Element ids come as JSON numbers (legacy) or strings (new standard). */
function elementIdOf(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return value;
  throw invalid('Invalid parameter: element_id must be an element id');
}

function checkCallbackUrl(url: string | undefined): void {
  if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url))
    throw invalid('Invalid parameter: callback_url must be an http(s) URL');
}

function claimExternalId(state: SimulatorState, externalId: string | undefined): void {
  if (externalId === undefined || state.faults.ignoresIdempotencyKeys('kling', 'create')) return;
  if (state.kling.taskOfExternal(externalId) !== undefined)
    throw invalid(`External_task_id ${externalId} already exists`);
}

/** `POST /omni-video/<model>`: prompt, elements, settings; billed in units at once (a failure may refund). */
function createVideo(state: SimulatorState, callbacks: KlingCallbacks, req: SimRequest): SimResponse {
  const model = MODELS[req.params.model];
  if (!model) throw klingError(404, 1203, `Model ${req.params.model} does not exist`);
  const fields = body(req);
  const contents = fields.contents;
  if (!Array.isArray(contents) || contents.length === 0)
    throw invalid('Invalid parameter: contents is required and must be a non-empty array');
  const items = contents.map((item, i) => object(item, `contents[${i}]`));
  const prompts = items.filter((item) => item.type === 'prompt');
  if (prompts.length !== 1) throw invalid('Invalid parameter: contents must hold exactly one prompt item');
  const prompt = requiredString(prompts[0], 'text', MAX_PROMPT);
  const elements = items.filter((item) => item.type === 'element');
  if (elements.length > MAX_ELEMENTS)
    throw invalid(`Invalid parameter: at most ${MAX_ELEMENTS} elements and reference images in total`);
  const elementIds = elements.map((item) => {
    requiredString(item, 'id');
    return elementIdOf(item.element_id);
  });
  const unknownType = items.find(
    (item) => !['prompt', 'element', 'refer_image', 'first_frame'].includes(String(item.type)),
  );
  if (unknownType) throw invalid(`Invalid parameter: contents type ${String(unknownType.type)} is not supported`);

  const settings = object(fields.settings, 'settings');
  const resolution = optionalString(settings, 'resolution') ?? '720p';
  if (!model.resolutions.includes(resolution))
    throw invalid(`Invalid parameter: resolution must be one of ${model.resolutions.join(', ')}`);
  const aspectRatio = optionalString(settings, 'aspect_ratio') ?? '16:9';
  const size = SIZES[resolution][aspectRatio];
  if (!size) throw invalid('Invalid parameter: aspect_ratio must be one of 16:9, 9:16, 1:1');
  const duration = settings.duration ?? 5;
  if (
    typeof duration !== 'number' ||
    !Number.isInteger(duration) ||
    duration < model.seconds[0] ||
    duration > model.seconds[1]
  )
    throw invalid(`Invalid parameter: duration must be an integer from ${model.seconds[0]} to ${model.seconds[1]}`);
  const audio = optionalString(settings, 'audio') ?? 'off';
  const units = klingUnits(req.params.model, audio, resolution, duration);
  if (units === undefined) throw invalid(`Invalid parameter: audio ${audio} is not available at ${resolution}`);

  const options = object(fields.options, 'options');
  const externalId = optionalString(options, 'external_task_id');
  const callbackUrl = optionalString(options, 'callback_url');
  checkCallbackUrl(callbackUrl);

  // Refusals that create nothing and charge nothing, in the order Kling would check them.
  claimExternalId(state, externalId);
  const balance = state.faults.balanceRefusal('kling', 'create');
  if (balance) throw balance;
  const moderated = state.faults.submitModerationError('kling', 'create', prompt);
  if (moderated) throw moderated;
  const revoked = elementIds.find((id) => state.faults.revokedCharacterError('kling', 'create', [id]));
  const gone = revoked ?? elementIds.find((id) => !state.kling.element(id, state.now()));
  if (gone !== undefined) throw invalid(`Element ${gone} does not exist or has been deleted`);

  const { job, replayed } = state.submit(
    'kling',
    'create',
    {
      id: state.kling.nextTaskId(),
      prompt,
      seconds: duration,
      size,
      model: req.params.model,
      characterIds: elementIds,
    },
    Math.round(units * KLING_UNIT_USD * 1e6) / 1e6,
    externalId,
  );
  const order: KlingOrder = {
    ...(externalId !== undefined ? { externalId } : {}),
    model: req.params.model,
    resolution,
    aspectRatio,
    audio,
    units,
    ...(callbackUrl !== undefined ? { callbackUrl } : {}),
  };
  if (!replayed) {
    state.kling.setOrder(job.id, order);
    if (externalId !== undefined) state.kling.claimExternal(externalId, job.id);
    if (callbackUrl !== undefined) callbacks.taskAccepted(job, callbackUrl);
  }
  return ok({
    id: job.id,
    status: 'submitted',
    create_time: job.createdAtMs,
    update_time: job.createdAtMs,
    ...(externalId !== undefined ? { external_id: externalId } : {}),
  });
}

/** The new-standard record of a video task (also a callback's body). */
export function videoTaskRecord(state: SimulatorState, job: Job): Fields {
  const view = viewJob(job, state.now());
  const order = state.kling.order(job);
  const status = STATUS_BY_PHASE[view.phase];
  const billedUnits = view.error?.code === 'processing_error' ? 0 : (order?.units ?? 0);
  return {
    id: job.id,
    status,
    message: view.error ? (FAILURE_MESSAGES[view.error.code] ?? view.error.message) : '',
    create_time: job.createdAtMs,
    update_time: view.finishedAtMs ?? (view.phase === 'running' ? job.createdAtMs + 1 : job.createdAtMs),
    external_id: order?.externalId ?? '',
    outputs:
      view.phase === 'completed'
        ? [
            {
              type: 'video',
              id: `${job.id}-v`,
              url: fileUrl(state, job.id, view.finishedAtMs!),
              watermark_url: '',
              duration: (job.seconds + 0.041).toFixed(3),
            },
          ]
        : [],
    billing: [{ charge_type: 'unit', amount: String(billedUnits), package_type: 'video' }],
  };
}

function elementTaskRecord(state: SimulatorState, task: ElementTaskRecord): Fields {
  const status = elementStatus(task, state.now());
  return {
    id: task.taskId,
    status,
    message: '',
    create_time: task.createdAtMs,
    update_time: status === 'succeeded' ? task.createdAtMs + task.durationMs : task.createdAtMs,
    external_id: task.externalId ?? '',
    outputs:
      status === 'succeeded'
        ? [
            {
              type: 'element',
              id: task.elementId,
              name: task.name,
              description: task.description,
              element_type: task.referenceType === 'image_refer' ? 'multi_image_elements' : 'video_character_elements',
              references: [],
              owned_by: 'sim-account',
              status: task.deletedAtMs === undefined ? 'succeeded' : 'deleted',
              tags: ['o_102'],
            },
          ]
        : [],
    billing: [{ charge_type: 'unit', amount: '0', package_type: 'element' }],
  };
}

function fileUrl(state: SimulatorState, taskId: string, finishedAtMs: number): string {
  const expires = klingExpiresAtMs(state, finishedAtMs);
  const signature = createHmac('sha256', signedFileUrlKey(state)).update(`${taskId}.${expires}`).digest('hex');
  return `${state.baseUrl}/kling/cdn/${taskId}.mp4?Expires=${expires}&Signature=${signature}`;
}

/** Every record `GET /tasks` can return under a task id: video jobs and element tasks. */
function recordById(state: SimulatorState, id: string): Fields | undefined {
  const job = state.jobs.get('kling', id);
  if (job) return videoTaskRecord(state, job);
  const element = state.kling.elementTask(id);
  return element ? elementTaskRecord(state, element) : undefined;
}

/** `GET /tasks?task_ids=a,b` or `?external_task_ids=a,b` (one or the other, at most 20). */
function queryTasks(state: SimulatorState, req: SimRequest): SimResponse {
  const byId = req.url.searchParams.get('task_ids');
  const byExternal = req.url.searchParams.get('external_task_ids');
  if ((byId === null) === (byExternal === null))
    throw invalid('Invalid parameter: give either task_ids or external_task_ids');
  const ids = (byId ?? byExternal ?? '').split(',').filter(Boolean);
  if (ids.length > MAX_IDS_PER_QUERY)
    throw invalid(`Invalid parameter: task_ids and external_task_ids cannot exceed ${MAX_IDS_PER_QUERY} in total`);
  const records = ids.flatMap((id) => {
    const taskId = byId !== null ? id : state.kling.taskOfExternal(id);
    const record = taskId === undefined ? undefined : recordById(state, taskId);
    return record ? [record] : [];
  });
  return ok(records);
}

/** `POST /tasks`: a cursor list over the last 30 days (or the given window), filtered by status. */
function listTasks(state: SimulatorState, req: SimRequest): SimResponse {
  const fields = body(req);
  const number = (name: string): number | undefined => {
    const value = fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) throw invalid(`Invalid parameter: ${name} must be a number`);
    return n;
  };
  const limit = number('limit') ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalid('Invalid parameter: limit must be 1-500');
  const end = number('end_time') ?? state.now();
  const start = number('start_time') ?? end - 30 * 24 * 3600 * 1000;
  const filters = Array.isArray(fields.filters) ? fields.filters.map((f, i) => object(f, `filters[${i}]`)) : [];
  const statuses = filters.find((f) => f.key === 'status')?.values;
  const records = [
    ...state.jobs
      .all('kling')
      .filter((job) => !job.deleted)
      .map((job) => videoTaskRecord(state, job)),
    ...state.kling.elementTasksAll().map((task) => elementTaskRecord(state, task)),
  ]
    .filter((r) => (r.create_time as number) >= start && (r.create_time as number) <= end)
    .filter((r) => !Array.isArray(statuses) || statuses.includes(r.status))
    .sort((a, b) => (b.create_time as number) - (a.create_time as number));
  const offset = typeof fields.cursor === 'string' && /^\d+$/.test(fields.cursor) ? Number(fields.cursor) : 0;
  const page = records.slice(offset, offset + limit);
  const hasMore = offset + limit < records.length;
  return ok({
    result: page,
    count: page.length,
    next_cursor: hasMore ? String(offset + limit) : '',
    has_more: hasMore,
  });
}

/** Legacy `GET /v1/videos/omni-video/{task_id|external_task_id}`: the legacy envelope. */
function legacyTask(state: SimulatorState, req: SimRequest): SimResponse {
  const key = req.params.id;
  const job = state.jobs.get('kling', key) ?? state.jobs.get('kling', state.kling.taskOfExternal(key) ?? '');
  if (!job) throw invalid(`Task not found by id/external id: ${key}`);
  const record = videoTaskRecord(state, job);
  const outputs = record.outputs as Array<Fields>;
  return ok({
    task_id: job.id,
    task_status: record.status === 'succeeded' ? 'succeed' : record.status,
    task_status_msg: record.message,
    task_info: { external_task_id: record.external_id },
    task_result: { videos: outputs.map(({ type: _type, ...video }) => video) },
    watermark_info: { enabled: false },
    final_unit_deduction: (record.billing as Array<Fields>)[0].amount,
    created_at: record.create_time,
    updated_at: record.update_time,
  });
}

const REFERENCE_TYPES = ['image_refer', 'video_refer'] as const;

/** A reference image: an http(s) URL, or Base64 of a PNG/JPEG within the limits (§2). */
function checkImage(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') throw invalid(`Invalid parameter: ${name} is required`);
  if (/^https?:\/\//.test(value)) return;
  const bytes = Buffer.from(value.replace(/^data:image\/\w+;base64,/, ''), 'base64');
  if (bytes.length > 10 * 1024 * 1024) throw invalid(`Invalid parameter: ${name} exceeds 10MB`);
  const png = bytes.subarray(0, 8).toString('hex') === '89504e470d0a1a0a';
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!png && !jpeg) throw invalid(`Invalid parameter: ${name} must be a jpg/jpeg/png URL or Base64`);
  if (png) {
    const [width, height] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    if (Math.min(width, height) < 300) throw invalid(`Invalid parameter: ${name} must be at least 300px`);
    if (Math.max(width, height) / Math.min(width, height) > 2.5)
      throw invalid(`Invalid parameter: ${name} aspect ratio must be between 1:2.5 and 2.5:1`);
  }
}

/** `POST /v1/general/advanced-custom-elements`: an element task (0 units), done in a fraction of a job's time. */
function createElement(state: SimulatorState, req: SimRequest): SimResponse {
  const fields = body(req);
  const name = requiredString(fields, 'element_name', 20);
  const description = requiredString(fields, 'element_description', 100);
  const referenceType = fields.reference_type;
  if (!REFERENCE_TYPES.includes(referenceType as (typeof REFERENCE_TYPES)[number]))
    throw invalid('Invalid parameter: reference_type must be image_refer or video_refer');
  if (referenceType === 'image_refer') {
    const list = object(fields.element_image_list, 'element_image_list');
    checkImage(list.frontal_image, 'element_image_list.frontal_image');
    const refer = list.refer_images;
    if (!Array.isArray(refer) || refer.length < 1 || refer.length > 3)
      throw invalid('Invalid parameter: element_image_list.refer_images must hold 1 to 3 images');
    refer.forEach((r, i) => checkImage(object(r, 'refer_images').image_url, `refer_images[${i}].image_url`));
  } else {
    const videos = object(fields.element_video_list, 'element_video_list').refer_videos;
    if (!Array.isArray(videos) || videos.length !== 1)
      throw invalid('Invalid parameter: element_video_list.refer_videos must hold exactly 1 video');
    const url = object(videos[0], 'refer_videos[0]').video_url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url))
      throw invalid('Invalid parameter: refer_videos[0].video_url must be an http(s) URL');
  }
  const externalId = optionalString(fields, 'external_task_id');
  checkCallbackUrl(optionalString(fields, 'callback_url'));
  if (externalId !== undefined && state.kling.taskOfExternal(externalId) !== undefined)
    throw invalid(`External_task_id ${externalId} already exists`);
  const moderated = state.faults.submitModerationError('kling', 'createElement', `${name} ${description}`);
  if (moderated) throw moderated;
  const task: ElementTaskRecord = {
    taskId: state.kling.nextTaskId(),
    ...(externalId !== undefined ? { externalId } : {}),
    elementId: state.kling.nextElementId(),
    name,
    description,
    referenceType: referenceType as ElementTaskRecord['referenceType'],
    createdAtMs: state.now(),
    durationMs: Math.round(state.scenario.jobSeconds(state.config.jobSeconds) * 250),
  };
  state.kling.addElementTask(task);
  if (externalId !== undefined) state.kling.claimExternal(externalId, task.taskId);
  return ok({
    task_id: task.taskId,
    task_info: { external_task_id: externalId ?? '' },
    task_status: 'submitted',
    created_at: task.createdAtMs,
    updated_at: task.createdAtMs,
  });
}

const LEGACY_STATUS: Record<KlingTaskStatus, string> = {
  submitted: 'submitted',
  processing: 'processing',
  succeeded: 'succeed',
  failed: 'failed',
};

function legacyElementRecord(state: SimulatorState, task: ElementTaskRecord): Fields {
  const status = elementStatus(task, state.now());
  const revoked = state.faults.revokedCharacterError('kling', 'getElement', [task.elementId]) !== undefined;
  return {
    task_id: task.taskId,
    task_status: LEGACY_STATUS[status],
    task_status_msg: '',
    task_info: { external_task_id: task.externalId ?? '' },
    task_result:
      status === 'succeeded'
        ? {
            elements: [
              {
                // a JSON number in the legacy envelope (vendor type "long")
                element_id: Number(task.elementId),
                element_name: task.name,
                element_description: task.description,
                reference_type: task.referenceType,
                owned_by: 'sim-account',
                status: task.deletedAtMs === undefined && !revoked ? 'succeed' : 'deleted',
              },
            ],
          }
        : {},
    final_unit_deduction: '0',
    final_balance_deduction: { quota: '0', list_price: '0' },
    created_at: task.createdAtMs,
    updated_at: status === 'succeeded' ? task.createdAtMs + task.durationMs : task.createdAtMs,
  };
}

function getElement(state: SimulatorState, req: SimRequest): SimResponse {
  const key = req.params.id;
  const task = state.kling.elementTask(key) ?? state.kling.elementTask(state.kling.taskOfExternal(key) ?? '');
  if (!task) throw invalid(`Task not found by id/external id: ${key}`);
  return ok(legacyElementRecord(state, task));
}

function listElements(state: SimulatorState, req: SimRequest): SimResponse {
  const pageNum = Number(req.url.searchParams.get('pageNum') ?? 1);
  const pageSize = Number(req.url.searchParams.get('pageSize') ?? 30);
  if (!Number.isInteger(pageNum) || pageNum < 1 || pageNum > 1000)
    throw invalid('Invalid parameter: pageNum must be 1-1000');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500)
    throw invalid('Invalid parameter: pageSize must be 1-500');
  const all = state.kling.elementTasksAll().map((task) => legacyElementRecord(state, task));
  return ok(all.slice((pageNum - 1) * pageSize, pageNum * pageSize));
}

/** Either delete path; a second delete is 1201 "already be deleted"; success may carry no `data` (live). */
function deleteElement(state: SimulatorState, req: SimRequest): SimResponse {
  const elementId = elementIdOf(body(req).element_id);
  const task = state.kling.elementEver(elementId);
  if (!task) throw invalid(`Element ${elementId} not found`);
  if (task.deletedAtMs !== undefined) throw invalid(`Element ${elementId} has already be deleted`);
  task.deletedAtMs = state.now();
  return ok();
}

export function klingRoutes(state: SimulatorState, callbacks: KlingCallbacks): Route[] {
  const on = (handler: (s: SimulatorState, r: SimRequest) => SimResponse) => (req: SimRequest) => handler(state, req);
  return [
    {
      name: 'create',
      method: 'POST',
      pattern: /^\/omni-video\/(?<model>[^/]+)$/,
      handle: (req) => createVideo(state, callbacks, req),
    },
    { name: 'queryTasks', method: 'GET', pattern: /^\/tasks$/, handle: on(queryTasks) },
    { name: 'listTasks', method: 'POST', pattern: /^\/tasks$/, handle: on(listTasks) },
    { name: 'legacyTask', method: 'GET', pattern: /^\/v1\/videos\/omni-video\/(?<id>[^/]+)$/, handle: on(legacyTask) },
    {
      name: 'createElement',
      method: 'POST',
      pattern: /^\/v1\/general\/advanced-custom-elements$/,
      handle: on(createElement),
    },
    {
      name: 'getElement',
      method: 'GET',
      pattern: /^\/v1\/general\/advanced-custom-elements\/(?<id>[^/]+)$/,
      handle: on(getElement),
    },
    {
      name: 'listElements',
      method: 'GET',
      pattern: /^\/v1\/general\/advanced-custom-elements$/,
      handle: on(listElements),
    },
    {
      name: 'deleteElement',
      method: 'POST',
      pattern: /^\/v1\/general\/delete-(advanced-)?elements$/,
      handle: on(deleteElement),
    },
  ];
}

export function klingGateway(state: SimulatorState, callbacks: KlingCallbacks): ContractGateway {
  return {
    contract: 'kling',
    routes: klingRoutes(state, callbacks),
    apiKey: state.config.keys.kling ?? '',
    unauthorized: () => new AuthenticationError('invalid_api_key', 'Authentication error: the API key is invalid'),
    render: renderKlingError,
  };
}
