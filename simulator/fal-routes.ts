/**
 * The fal twin, mounted under `/fal` (contracts/fal-queue.md):
 *
 *   /fal/queue/{model id}                          POST submit (the full model id)
 *   /fal/queue/{owner}/{app}/requests/{id}/status  GET status: 202 while IN_QUEUE/IN_PROGRESS, 200 COMPLETED
 *   /fal/queue/{owner}/{app}/requests/{id}         GET result (also .../response), the model's own status code
 *   /fal/queue/{owner}/{app}/requests/{id}/cancel  PUT cancel
 *   /fal/api/v1/models/requests/by-endpoint        GET the platform API's request list (queued ones included)
 *   /fal/rest/storage/upload/initiate              POST upload initiate -> {upload_url, file_url}
 *   /fal/cdn/upload/{file}?token=                  PUT the bytes (pre-signed, no key)
 *   /fal/cdn/files/{id}/{name}                     GET/HEAD uploaded and generated files (public, no key)
 *   /fal/.well-known/jwks.json                     the webhook signing keys
 *
 * Status, result and cancel name `{owner}/{app}` only, as fal's do: the full model path there is a
 * 404. Jobs go through SimulatorState.submit like every contract's (scenario fate, ledger), with no
 * idempotency key, since fal has none.
 *
 * Over 300 lines on purpose: fal's hosts (queue, storage, platform, CDN) are one twin sharing the
 * request store and the webhook sender; each route is short.
 */
import { createHash } from 'node:crypto';
import { ApiError, InvalidRequestError, NotFoundError } from './errors';
import { falModerationError, FalModelError, falRequestError, renderFalError } from './fal-errors';
import { parseFalInput, type FalJobInput } from './fal-input';
import type { FalWebhooks } from './fal-webhooks';
import { serveContract, underFaults, type ContractGateway } from './gateway';
import { bytesResponse, decodeBody, jsonResponse, type Route, type SimRequest, type SimResponse } from './http';
import { finishesAtMs, viewJob, type Job } from './jobs';
import { falPriceUsd } from './pricing';
import type { SimulatorState } from './state';

/** A submitted request as the twin remembers it beyond its job. */
interface FalRequest {
  modelId: string;
  app: string;
  input: Record<string, unknown>;
  parsed: FalJobInput;
  /** Reference images that were gone when it was submitted: the model will fail to fetch them. */
  referencesGone: string[];
  webhookUrl?: string;
  /** `X-Fal-Object-Lifecycle-Preference`, seconds. */
  lifetimeSeconds?: number;
  cancelledAtMs?: number;
}

interface Upload {
  token: string;
  fileName: string;
  contentType: string;
  bytes?: Buffer;
}

const APP = String.raw`(?<app>(?:(?:workflows|comfy)/)?[^/]+/[^/]+)`;
const RESULT_NOT_READY = 'Request is still in progress';

/** The twin's state: requests and uploads (jobs themselves live in SimulatorState). */
export class FalTwin {
  readonly requests = new Map<string, FalRequest>();
  readonly uploads = new Map<string, Upload>();
  private uploadCount = 0;

  constructor(
    readonly state: SimulatorState,
    readonly webhooks: FalWebhooks,
  ) {
    state.resetHooks.push(() => this.reset());
  }

  reset(): void {
    this.requests.clear();
    this.uploads.clear();
    this.uploadCount = 0;
  }

  get base(): string {
    return `${this.state.baseUrl}/fal`;
  }

  nextUploadId(fileName: string): string {
    this.uploadCount += 1;
    const hash = createHash('sha256').update(`${this.state.config.seed}\0${this.uploadCount}\0${fileName}`);
    return `${this.uploadCount.toString(16).padStart(4, '0')}${hash.digest('hex').slice(0, 20)}`;
  }

  /** The upload a CDN URL of this twin names, if it was uploaded and is not revoked. */
  liveUpload(url: string): Upload | undefined {
    const match = /\/fal\/cdn\/files\/([^/]+)\/[^/]+$/.exec(safePath(url));
    const id = match?.[1];
    const upload = id === undefined ? undefined : this.uploads.get(id);
    return upload?.bytes && id !== undefined && !this.revoked(id) ? upload : undefined;
  }

  /** `revokedCharacters` (file ids) / `revokeAllCharacters`: reference files deleted from storage. */
  revoked(fileId: string): boolean {
    const all = this.state.scenario.fault('fal', 'file', 'revokeAllCharacters')?.value === true;
    return all || (this.state.scenario.fault('fal', 'file', 'revokedCharacters')?.value ?? []).includes(fileId);
  }
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

function urls(twin: FalTwin, app: string, id: string) {
  const response = `${twin.base}/queue/${app}/requests/${id}`;
  return { response_url: response, status_url: `${response}/status`, cancel_url: `${response}/cancel` };
}

/** `Authorization: Key <key_id>:<key_secret>`. */
export function falKeyOf(headers: SimRequest['headers']): string | undefined {
  const match = headers.authorization ? /^Key\s+(.+)$/i.exec(headers.authorization.trim()) : null;
  return match ? match[1] : undefined;
}

function lifetimeOf(req: SimRequest): number | undefined {
  const header = req.headers['x-fal-object-lifecycle-preference'];
  if (typeof header !== 'string') return undefined;
  try {
    const seconds = (JSON.parse(header) as { expiration_duration_seconds?: unknown }).expiration_duration_seconds;
    return typeof seconds === 'number' && seconds > 0 ? seconds : undefined;
  } catch {
    return undefined;
  }
}

function submit(twin: FalTwin, req: SimRequest): SimResponse {
  const { state } = twin;
  const modelId = req.params.model;
  const fields = decodeBody(req).fields as Record<string, unknown>;
  const parsed = parseFalInput(modelId, fields);
  if (!parsed) throw new NotFoundError('not_found', `Application '${modelId}' not found`);
  const referencesGone = parsed.imageUrls.filter((u) => !twin.liveUpload(u));
  // the model fails to fetch a gone reference before any GPU time: not billed
  const price = referencesGone.length ? 0 : falPriceUsd(modelId, parsed.size, parsed.seconds, parsed.audio);
  const characterIds = parsed.imageUrls.map((u) => /\/files\/([^/]+)\//.exec(safePath(u))?.[1] ?? u);
  const draft = { prompt: parsed.prompt, seconds: parsed.seconds, size: parsed.size, model: modelId, characterIds };
  const { job } = state.submit('fal', 'submit', draft, price);
  const app = modelId
    .split('/')
    .slice(0, /^(workflows|comfy)\//.test(modelId) ? 3 : 2)
    .join('/');
  const webhookUrl = req.url.searchParams.get('fal_webhook') ?? undefined;
  const lifetimeSeconds = lifetimeOf(req);
  twin.requests.set(job.id, {
    modelId,
    app,
    input: fields,
    parsed,
    referencesGone,
    ...(webhookUrl ? { webhookUrl } : {}),
    ...(lifetimeSeconds ? { lifetimeSeconds } : {}),
  });
  if (webhookUrl) scheduleWebhook(twin, job);
  return jsonResponse(
    200,
    { status: 'IN_QUEUE', request_id: job.id, ...urls(twin, app, job.id), queue_position: 0 },
    { 'x-fal-request-id': job.id },
  );
}

function findRequest(twin: FalTwin, req: SimRequest): { job: Job; request: FalRequest } {
  const job = twin.state.jobs.get('fal', req.params.id);
  const request = job && twin.requests.get(job.id);
  if (!job || !request || request.app !== req.params.app)
    throw new NotFoundError('not_found', `Request ${req.params.id} not found`);
  return { job, request };
}

type Phase = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';

function phaseOf(twin: FalTwin, job: Job, request: FalRequest): { phase: Phase; finishedAtMs: number | null } {
  if (request.cancelledAtMs !== undefined) return { phase: 'COMPLETED', finishedAtMs: request.cancelledAtMs };
  const view = viewJob(job, twin.state.now());
  if (view.phase === 'queued') return { phase: 'IN_QUEUE', finishedAtMs: null };
  if (view.phase === 'running') return { phase: 'IN_PROGRESS', finishedAtMs: null };
  return { phase: 'COMPLETED', finishedAtMs: view.finishedAtMs };
}

function status(twin: FalTwin, req: SimRequest): SimResponse {
  const { job, request } = findRequest(twin, req);
  const { phase } = phaseOf(twin, job, request);
  const withLogs = req.url.searchParams.get('logs') === '1';
  const body: Record<string, unknown> = { status: phase, request_id: job.id, ...urls(twin, request.app, job.id) };
  if (phase === 'IN_QUEUE') body.queue_position = 0;
  if (phase === 'IN_PROGRESS')
    body.logs = withLogs
      ? [
          {
            message: `step ${viewJob(job, twin.state.now()).progress}/100`,
            level: 'INFO',
            source: 'USER',
            timestamp: new Date(twin.state.now()).toISOString(),
          },
        ]
      : null;
  if (phase === 'COMPLETED') {
    body.logs = withLogs ? [] : null;
    body.metrics = { inference_time: job.durationMs / 1000 };
    // an infrastructure failure shows on the status; a model's refusal only on the result
    if (request.cancelledAtMs === undefined && viewJob(job, twin.state.now()).error?.code === 'processing_error') {
      body.error = 'Runner disconnected';
      body.error_type = 'runner_disconnected';
    }
  }
  return jsonResponse(phase === 'COMPLETED' ? 200 : 202, body, { 'x-fal-request-id': job.id });
}

/** The result a finished request answers with (also what its webhook carries). */
async function outcomeOf(
  twin: FalTwin,
  job: Job,
  request: FalRequest,
): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
  const rendered = (error: ApiError) => ({
    status: error.status,
    body: renderFalError(error),
    headers: { ...error.headers },
  });
  if (request.cancelledAtMs !== undefined)
    return rendered(falRequestError(499, 'client_cancelled', 'Request was cancelled by the client'));
  if (request.referencesGone.length > 0) {
    const field = request.input.elements ? 'elements' : 'image_urls';
    return rendered(
      new FalModelError(field, 'file_download_error', `Failed to download the file at ${request.referencesGone[0]}`),
    );
  }
  const error = viewJob(job, twin.state.now()).error;
  if (error?.code === 'moderation_blocked') return rendered(falModerationError());
  if (error) return rendered(falRequestError(503, 'runner_disconnected', 'Runner disconnected'));
  const video = await twin.state.media.video(twin.state.mediaSubject(job));
  const output: Record<string, unknown> = {
    video: {
      url: `${twin.base}/cdn/files/${job.id}/output.mp4`,
      content_type: 'video/mp4',
      file_name: 'output.mp4',
      file_size: video.length,
    },
  };
  if (request.modelId.startsWith('bytedance/')) output.seed = parseInt(job.id.slice(0, 8), 16);
  return { status: 200, body: output };
}

async function result(twin: FalTwin, req: SimRequest): Promise<SimResponse> {
  const { job, request } = findRequest(twin, req);
  const { phase, finishedAtMs } = phaseOf(twin, job, request);
  if (phase !== 'COMPLETED' || finishedAtMs === null)
    throw new InvalidRequestError(RESULT_NOT_READY, null, 'bad_request');
  if (twin.state.now() >= twin.state.expiresAtMs(finishedAtMs, 'fal', 'result'))
    throw new NotFoundError('not_found', `Request ${job.id} not found`);
  const outcome = await outcomeOf(twin, job, request);
  return jsonResponse(outcome.status, outcome.body, { ...outcome.headers, 'x-fal-request-id': job.id });
}

function cancel(twin: FalTwin, req: SimRequest): SimResponse {
  const { job, request } = findRequest(twin, req);
  if (phaseOf(twin, job, request).phase === 'COMPLETED') return jsonResponse(400, { status: 'ALREADY_COMPLETED' });
  request.cancelledAtMs = twin.state.now();
  return jsonResponse(202, { status: 'CANCELLATION_REQUESTED' });
}

const MAX_LIST_LIMIT = 100;

function listRequests(twin: FalTwin, req: SimRequest): SimResponse {
  const query = req.url.searchParams;
  const endpoint = query.get('endpoint_id');
  if (!endpoint) throw new FalModelError('endpoint_id', 'missing', 'field required');
  const startText = query.get('start');
  const start = startText === null ? 0 : Date.parse(startText);
  if (Number.isNaN(start)) throw new FalModelError('start', 'value_error', 'must be an ISO 8601 date-time');
  const limit = Number(query.get('limit') ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw new FalModelError('limit', 'value_error', `must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  const offset = Number(query.get('cursor') ?? 0);
  const payloads = (query.get('expand') ?? '').split(',').includes('payloads');
  const now = twin.state.now();
  // newest first; queued requests are listed too (the contract file leaves it open, the adapter does not rely on it)
  const matching = twin.state.jobs
    .all('fal')
    .filter((job) => twin.requests.get(job.id)?.modelId === endpoint && job.createdAtMs >= start)
    .reverse();
  const page = matching.slice(offset, offset + limit).map((job) => {
    const request = twin.requests.get(job.id)!;
    const { phase, finishedAtMs } = phaseOf(twin, job, request);
    const startedAt = job.createdAtMs + job.durationMs * 0.1;
    return {
      request_id: job.id,
      endpoint_id: request.modelId,
      sent_at: new Date(job.createdAtMs).toISOString(),
      started_at: phase === 'IN_QUEUE' || now < startedAt ? null : new Date(startedAt).toISOString(),
      ended_at: finishedAtMs === null ? null : new Date(finishedAtMs).toISOString(),
      status_code: phase === 'COMPLETED' ? 200 : null,
      ...(payloads ? { json_input: request.input, json_output: null } : {}),
    };
  });
  const more = offset + limit < matching.length;
  return jsonResponse(200, { items: page, next_cursor: more ? String(offset + limit) : null, has_more: more });
}

function initiateUpload(twin: FalTwin, req: SimRequest): SimResponse {
  if (req.url.searchParams.get('storage_type') !== 'fal-cdn-v3')
    throw new FalModelError('storage_type', 'value_error', 'must be fal-cdn-v3');
  const fields = decodeBody(req).fields;
  const contentType = fields.content_type;
  const fileName = fields.file_name;
  if (typeof contentType !== 'string' || !contentType)
    throw new FalModelError('content_type', 'missing', 'field required');
  if (typeof fileName !== 'string' || !/^[\w.-]{1,200}$/.test(fileName))
    throw new FalModelError('file_name', 'value_error', 'must be a plain file name');
  const id = twin.nextUploadId(fileName);
  const token = createHash('sha256').update(`token\0${id}`).digest('hex').slice(0, 32);
  twin.uploads.set(id, { token, fileName, contentType });
  return jsonResponse(200, {
    upload_url: `${twin.base}/cdn/upload/${id}?token=${token}`,
    file_url: `${twin.base}/cdn/files/${id}/${fileName}`,
  });
}

function putUpload(twin: FalTwin, req: SimRequest): SimResponse {
  const upload = twin.uploads.get(req.params.id);
  if (!upload || req.url.searchParams.get('token') !== upload.token)
    throw new ApiError(403, 'forbidden', 'Invalid or expired upload URL');
  upload.bytes = Buffer.from(req.body);
  return jsonResponse(200, {});
}

async function serveFile(twin: FalTwin, req: SimRequest): Promise<SimResponse> {
  const { id, name } = req.params;
  const upload = twin.uploads.get(id);
  if (upload) {
    if (!upload.bytes || upload.fileName !== name || twin.revoked(id))
      throw new NotFoundError('not_found', 'File not found');
    return bytesResponse(upload.bytes, upload.contentType);
  }
  const job = twin.state.jobs.get('fal', id);
  const request = job && twin.requests.get(id);
  if (!job || !request || name !== 'output.mp4') throw new NotFoundError('not_found', 'File not found');
  const { finishedAtMs } = phaseOf(twin, job, request);
  const outcome = finishedAtMs === null ? undefined : await outcomeOf(twin, job, request);
  if (finishedAtMs === null || outcome?.status !== 200) throw new NotFoundError('not_found', 'File not found');
  const lifetime = twin.state.scenario.contentTtlSeconds(
    'fal',
    'file',
    request.lifetimeSeconds ?? twin.state.config.contentTtlSeconds,
  );
  if (twin.state.now() >= finishedAtMs + lifetime * 1000) throw new NotFoundError('not_found', 'File not found');
  return bytesResponse(await twin.state.media.video(twin.state.mediaSubject(job)), 'video/mp4');
}

/** A look at the job when it should end; once finished, its webhook goes out (retries in FalWebhooks). */
function scheduleWebhook(twin: FalTwin, job: Job): void {
  const endsAt = finishesAtMs(job);
  if (endsAt === null) return;
  const look = () => {
    const request = twin.requests.get(job.id);
    if (!request?.webhookUrl || twin.state.jobs.lookup(job.id) !== job) return;
    const { phase } = phaseOf(twin, job, request);
    if (phase !== 'COMPLETED') {
      twin.webhooks.after(Math.max(100, (finishesAtMs(job) ?? 0) - twin.state.now()), look);
      return;
    }
    void outcomeOf(twin, job, request).then((outcome) => {
      const ok = outcome.status >= 200 && outcome.status < 300;
      twin.webhooks.deliver(request.webhookUrl!, job.id, {
        request_id: job.id,
        gateway_request_id: job.id,
        status: ok ? 'OK' : 'ERROR',
        ...(ok ? {} : { error: `Invalid status code: ${outcome.status}` }),
        payload: outcome.body,
      });
    });
  };
  twin.webhooks.after(endsAt - twin.state.now(), look);
}

export function falGateway(twin: FalTwin): ContractGateway {
  const on = (handler: (t: FalTwin, r: SimRequest) => SimResponse | Promise<SimResponse>) => (req: SimRequest) =>
    handler(twin, req);
  const routes: Route[] = [
    {
      name: 'status',
      method: 'GET',
      pattern: new RegExp(`^/queue/${APP}/requests/(?<id>[^/]+)/status$`),
      handle: on(status),
    },
    {
      name: 'cancel',
      method: 'PUT',
      pattern: new RegExp(`^/queue/${APP}/requests/(?<id>[^/]+)/cancel$`),
      handle: on(cancel),
    },
    {
      name: 'result',
      method: 'GET',
      pattern: new RegExp(`^/queue/${APP}/requests/(?<id>[^/]+)(?:/response)?$`),
      handle: on(result),
    },
    { name: 'submit', method: 'POST', pattern: /^\/queue\/(?<model>[^?]+[^/])$/, handle: on(submit) },
    {
      name: 'requests',
      method: 'GET',
      pattern: /^\/api\/v1\/models\/requests\/by-endpoint$/,
      handle: on(listRequests),
    },
    {
      name: 'uploadInitiate',
      method: 'POST',
      pattern: /^\/rest\/storage\/upload\/initiate$/,
      handle: on(initiateUpload),
    },
  ];
  return {
    contract: 'fal',
    routes,
    apiKey: twin.state.config.keys.fal,
    authorized: (headers) => falKeyOf(headers) === twin.state.config.keys.fal,
    unauthorized: () => new ApiError(401, 'unauthorized', 'No user found for Key ID and Secret'),
    render: renderFalError,
  };
}

/** Serves one request below `/fal`; `subPath` is the path below it. */
export async function serveFal(
  twin: FalTwin,
  gateway: ContractGateway,
  req: Omit<SimRequest, 'params'>,
  subPath: string,
): Promise<SimResponse> {
  const { state } = twin;
  if (subPath === '/.well-known/jwks.json' && req.method === 'GET') return jsonResponse(200, twin.webhooks.jwks());
  // the CDN and pre-signed uploads take no key and count per endpoint only, like relay files
  const open = [
    { name: 'upload', method: 'PUT', pattern: /^\/cdn\/upload\/(?<id>[^/]+)$/, handle: putUpload },
    { name: 'file', method: 'GET', pattern: /^\/cdn\/files\/(?<id>[^/]+)\/(?<name>[^/]+)$/, handle: serveFile },
    { name: 'file', method: 'HEAD', pattern: /^\/cdn\/files\/(?<id>[^/]+)\/(?<name>[^/]+)$/, handle: serveFile },
  ];
  for (const route of open) {
    const match = route.method === req.method ? route.pattern.exec(subPath) : null;
    if (!match) continue;
    state.ledger.countCall('fal', route.name, false);
    return underFaults(
      state,
      { contract: 'fal', endpoint: route.name, inherit: false },
      renderFalError,
      () => undefined,
      () => route.handle(twin, { ...req, params: { ...(match.groups ?? {}) } }),
    );
  }
  return serveContract(gateway, state, req, subPath);
}
