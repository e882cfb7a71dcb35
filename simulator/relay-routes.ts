/**
 * The `relay-v1` contract (character relays driving the consumer Sora app), mounted under
 * `/relay`. Looser than OpenAI's (lenient bodies, per-video billing, `@char_...` in prompts), but
 * just as strict where real relays are: unknown cameos, durations, unfinished source tasks.
 */
import { InvalidRequestError, NotFoundError } from './errors';
import {
  bytesResponse,
  decodeBody,
  idempotencyKeyOf,
  jsonResponse,
  type Route,
  type SimRequest,
  type SimResponse,
} from './http';
import { viewJob, type Job } from './jobs';
import type { FormObject } from './multipart';
import { RELAY_PRICE_PER_VIDEO_USD } from './pricing';
import type { SimulatorState } from './state';

const STATUS_WORDS = { queued: 'queued', running: 'processing', completed: 'completed', failed: 'failed' } as const;
const DURATIONS = [10, 15];
const DEFAULT_DURATION = 10;
const CAMEO_PATTERN = /@(char_[A-Za-z0-9_]+)/g;

function requireText(fields: FormObject, name: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidRequestError(`'${name}' is required.`, name, 'invalid_request');
  return value;
}

function optionalText(fields: FormObject, name: string): string | null {
  const value = fields[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new InvalidRequestError(`'${name}' must be a string.`, name, 'invalid_request');
  return value;
}

function findTask(state: SimulatorState, id: string): Job {
  const job = state.jobs.get('relay-v1', id);
  if (!job) throw new NotFoundError('task_not_found', `Task ${id} not found.`);
  return job;
}

/** `{video_url, name, description?}`: the relay fetches the clip itself, so only the URL is checked. */
function createCharacter(state: SimulatorState, req: SimRequest): SimResponse {
  const fields = decodeBody(req).fields;
  const videoUrl = requireText(fields, 'video_url');
  if (!/^https?:\/\/[^\s/]+/.test(videoUrl))
    throw new InvalidRequestError('video_url must be an http(s) URL.', 'video_url', 'invalid_video_url');
  const character = state.characters.create('relay-v1', {
    name: requireText(fields, 'name'),
    description: optionalText(fields, 'description'),
    createdAtMs: state.now(),
    source: { kind: 'url', url: videoUrl },
  });
  return jsonResponse(200, { character_id: character.id });
}

/** `{task_id, name}`: a character from an earlier, completed generation. */
function extractCharacter(state: SimulatorState, req: SimRequest): SimResponse {
  const fields = decodeBody(req).fields;
  const taskId = requireText(fields, 'task_id');
  const name = requireText(fields, 'name');
  const task = findTask(state, taskId);
  const phase = viewJob(task, state.now()).phase;
  if (phase !== 'completed') {
    throw new InvalidRequestError(
      `Task ${taskId} is ${STATUS_WORDS[phase]}; only completed tasks can be extracted from.`,
      'task_id',
      'task_not_completed',
    );
  }
  const character = state.characters.create('relay-v1', {
    name,
    description: optionalText(fields, 'description'),
    createdAtMs: state.now(),
    source: { kind: 'task', taskId },
  });
  return jsonResponse(200, { character_id: character.id });
}

function listCharacters(state: SimulatorState): SimResponse {
  const characters = state.characters.list('relay-v1').map((c) => ({
    character_id: c.id,
    name: c.name,
    description: c.description,
    created_at: Math.floor(c.createdAtMs / 1000),
  }));
  return jsonResponse(200, { characters });
}

/** `{prompt, duration?}`: every `@char_...` must be a character of this relay. */
function generate(state: SimulatorState, req: SimRequest): SimResponse {
  const fields = decodeBody(req).fields;
  const prompt = requireText(fields, 'prompt');
  const duration = fields.duration ?? DEFAULT_DURATION;
  if (typeof duration !== 'number' || !DURATIONS.includes(duration)) {
    throw new InvalidRequestError(
      `duration must be one of ${DURATIONS.join(', ')} (seconds).`,
      'duration',
      'invalid_duration',
    );
  }
  const cameos = [...new Set([...prompt.matchAll(CAMEO_PATTERN)].map((m) => m[1]))];
  const revoked = state.faults.revokedCharacterError('relay-v1', 'generate', cameos);
  if (revoked) throw revoked;
  for (const id of cameos) {
    if (!state.characters.get('relay-v1', id))
      throw new InvalidRequestError(`Cameo @${id} not found.`, 'prompt', 'cameo_not_found');
  }
  const draft = { prompt, seconds: duration, size: '720x1280', characterIds: cameos };
  const { job } = state.submit('relay-v1', 'generate', draft, RELAY_PRICE_PER_VIDEO_USD, idempotencyKeyOf(req.headers));
  return jsonResponse(200, { task_id: job.id });
}

function getTask(state: SimulatorState, req: SimRequest): SimResponse {
  const job = findTask(state, req.params.id);
  const view = viewJob(job, state.now());
  return jsonResponse(200, {
    task_id: job.id,
    status: STATUS_WORDS[view.phase],
    progress: view.progress,
    ...(view.phase === 'completed' ? { video_url: `${state.baseUrl}/relay/files/${job.id}.mp4` } : {}),
    ...(view.error ? { error: `${view.error.code}: ${view.error.message}` } : {}),
  });
}

/** Routes below `/relay` that need the relay key. */
export function relayRoutes(state: SimulatorState): Route[] {
  const on = (handler: (s: SimulatorState, r: SimRequest) => SimResponse) => (req: SimRequest) => handler(state, req);
  return [
    { name: 'createCharacter', method: 'POST', pattern: /^\/sora\/characters$/, handle: on(createCharacter) },
    {
      name: 'extractCharacter',
      method: 'POST',
      pattern: /^\/sora\/characters\/extract$/,
      handle: on(extractCharacter),
    },
    { name: 'listCharacters', method: 'GET', pattern: /^\/sora\/characters$/, handle: on(listCharacters) },
    { name: 'generate', method: 'POST', pattern: /^\/sora\/generate$/, handle: on(generate) },
    { name: 'task', method: 'GET', pattern: /^\/sora\/tasks\/(?<id>[^/]+)$/, handle: on(getTask) },
  ];
}

/**
 * `GET /relay/files/{task_id}.mp4`: no auth, like the CDN URLs relays hand out, but like them it
 * expires (contentTtlSeconds after completion).
 */
export async function serveRelayFile(state: SimulatorState, taskId: string): Promise<SimResponse> {
  const job = state.jobs.get('relay-v1', taskId);
  const view = job ? viewJob(job, state.now()) : undefined;
  if (!job || !view || view.phase !== 'completed' || view.finishedAtMs === null) {
    throw new NotFoundError('file_not_found', `No file for ${taskId}.`);
  }
  if (state.now() >= state.expiresAtMs(view.finishedAtMs, 'relay-v1', 'file'))
    throw new NotFoundError('file_expired', `The file for ${taskId} has expired.`);
  return bytesResponse(await state.media.video(state.mediaSubject(job)), 'video/mp4');
}
