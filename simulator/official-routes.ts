/**
 * The official contract: OpenAI's Videos API, mounted under `/v1`. Response bodies follow the
 * OpenAPI file's schemas (VideoResource, VideoListResource, DeletedVideoResource,
 * VideoCharacterResource) field for field.
 */
import { createHash } from 'node:crypto';
import { ApiError, InvalidRequestError, NotFoundError } from './errors';
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
import { containsHumanLikeness, looksLikeMp4 } from './media';
import { parseCreateCharacter, parseCreateVideo, parseRemix } from './official-input';
import { officialPriceUsd } from './pricing';
import type { SimulatorState } from './state';

const STATUS_WORDS = { queued: 'queued', running: 'in_progress', completed: 'completed', failed: 'failed' } as const;
const CONTENT_VARIANTS = ['video', 'thumbnail', 'spritesheet'] as const;
const DEFAULT_LIST_LIMIT = 20;
const MAX_LIST_LIMIT = 100;

const toUnix = (ms: number): number => Math.floor(ms / 1000);

function videoResource(state: SimulatorState, job: Job): Record<string, unknown> {
  const view = viewJob(job, state.now());
  const finished = view.phase === 'completed' && view.finishedAtMs !== null ? view.finishedAtMs : null;
  const expiresAt = finished === null ? null : toUnix(state.expiresAtMs(finished, 'official', 'content'));
  return {
    id: job.id,
    object: 'video',
    model: job.model ?? 'sora-2',
    status: STATUS_WORDS[view.phase],
    progress: view.progress,
    created_at: toUnix(job.createdAtMs),
    completed_at: view.finishedAtMs === null ? null : toUnix(view.finishedAtMs),
    expires_at: expiresAt,
    prompt: job.prompt,
    seconds: String(job.seconds),
    size: job.size,
    remixed_from_video_id: job.remixedFromId,
    error: view.error,
  };
}

function findVideo(state: SimulatorState, req: SimRequest): Job {
  const id = req.params.id;
  const job = state.jobs.get('official', id);
  if (!job) throw new NotFoundError('video_not_found', `Video with id '${id}' not found.`, 'video_id');
  return job;
}

function requireCompleted(state: SimulatorState, job: Job): void {
  const phase = viewJob(job, state.now()).phase;
  if (phase !== 'completed') {
    throw new InvalidRequestError(
      `Video '${job.id}' is ${STATUS_WORDS[phase]}, not completed.`,
      'video_id',
      'video_not_ready',
    );
  }
}

/** No character may be revoked; each must exist here (ids are not portable) and be named in the prompt. */
function checkCharacters(state: SimulatorState, endpoint: string, prompt: string, ids: readonly string[]): void {
  const revoked = state.faults.revokedCharacterError('official', endpoint, ids);
  if (revoked) throw revoked;
  for (const id of ids) {
    const character = state.characters.get('official', id);
    if (!character) throw new InvalidRequestError(`Character '${id}' not found.`, 'characters', 'character_not_found');
    if (!prompt.toLowerCase().includes(character.name.toLowerCase())) {
      throw new InvalidRequestError(
        `The prompt must mention character '${character.name}' (${id}) by name.`,
        'characters',
        'character_not_in_prompt',
      );
    }
  }
}

function createVideo(state: SimulatorState, req: SimRequest): SimResponse {
  const input = parseCreateVideo(decodeBody(req).fields);
  checkCharacters(state, 'create', input.prompt, input.characterIds);
  const draft = {
    prompt: input.prompt,
    seconds: input.seconds,
    size: input.size,
    model: input.model,
    characterIds: input.characterIds,
  };
  const price = officialPriceUsd(input.model, input.size, input.seconds);
  const { job } = state.submit('official', 'create', draft, price, idempotencyKeyOf(req.headers));
  return jsonResponse(200, videoResource(state, job));
}

function retrieveVideo(state: SimulatorState, req: SimRequest): SimResponse {
  return jsonResponse(200, videoResource(state, findVideo(state, req)));
}

function listVideos(state: SimulatorState, req: SimRequest): SimResponse {
  const query = req.url.searchParams;
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIST_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIST_LIMIT) {
    throw new InvalidRequestError(`Invalid 'limit': expected an integer from 0 to ${MAX_LIST_LIMIT}.`, 'limit');
  }
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc')
    throw new InvalidRequestError("Invalid 'order': expected 'asc' or 'desc'.", 'order');
  const ordered = state.jobs.all('official');
  if (order === 'desc') ordered.reverse();
  let start = 0;
  const after = query.get('after');
  if (after !== null) {
    // The cursor may have been deleted since; its position in creation order still holds.
    const index = ordered.findIndex((job) => job.id === after);
    if (index < 0) throw new InvalidRequestError(`Invalid 'after': no video '${after}'.`, 'after', 'invalid_cursor');
    start = index + 1;
  }
  const live = ordered.slice(start).filter((job) => !job.deleted);
  const page = live.slice(0, limit);
  return jsonResponse(200, {
    object: 'list',
    data: page.map((job) => videoResource(state, job)),
    first_id: page.length > 0 ? page[0].id : null,
    last_id: page.length > 0 ? page[page.length - 1].id : null,
    has_more: live.length > page.length,
  });
}

function deleteVideo(state: SimulatorState, req: SimRequest): SimResponse {
  const job = findVideo(state, req);
  const phase = viewJob(job, state.now()).phase;
  if (phase !== 'completed' && phase !== 'failed') {
    throw new InvalidRequestError(
      `Video '${job.id}' is ${STATUS_WORDS[phase]}: only completed or failed videos can be deleted.`,
      'video_id',
      'video_not_deletable',
    );
  }
  job.deleted = true;
  return jsonResponse(200, { id: job.id, object: 'video.deleted', deleted: true });
}

function remixVideo(state: SimulatorState, req: SimRequest): SimResponse {
  const source = findVideo(state, req);
  const prompt = parseRemix(decodeBody(req).fields);
  requireCompleted(state, source);
  const revoked = state.faults.revokedCharacterError('official', 'remix', source.characterIds);
  if (revoked) throw revoked;
  const model = source.model ?? 'sora-2';
  const draft = {
    prompt,
    seconds: source.seconds,
    size: source.size,
    model,
    characterIds: source.characterIds,
    remixedFromId: source.id,
  };
  const { job } = state.submit(
    'official',
    'remix',
    draft,
    officialPriceUsd(model, source.size, source.seconds),
    idempotencyKeyOf(req.headers),
  );
  return jsonResponse(200, videoResource(state, job));
}

async function downloadContent(state: SimulatorState, req: SimRequest): Promise<SimResponse> {
  const variant = req.url.searchParams.get('variant') ?? 'video';
  if (!(CONTENT_VARIANTS as readonly string[]).includes(variant)) {
    throw new InvalidRequestError(`Invalid 'variant': expected one of ${CONTENT_VARIANTS.join(', ')}.`, 'variant');
  }
  const job = findVideo(state, req);
  requireCompleted(state, job);
  const view = viewJob(job, state.now());
  if (view.finishedAtMs !== null && state.now() >= state.expiresAtMs(view.finishedAtMs, 'official', 'content')) {
    throw new NotFoundError('content_expired', `The content of video '${job.id}' has expired.`, 'video_id');
  }
  const subject = state.mediaSubject(job);
  if (variant === 'thumbnail') return bytesResponse(await state.media.thumbnail(subject), 'image/webp');
  if (variant === 'spritesheet') return bytesResponse(await state.media.spritesheet(subject), 'image/webp');
  return bytesResponse(await state.media.video(subject), 'video/mp4');
}

function characterResource(character: { id: string; name: string; createdAtMs: number }): Record<string, unknown> {
  return { id: character.id, name: character.name, created_at: toUnix(character.createdAtMs) };
}

function createCharacter(state: SimulatorState, req: SimRequest): SimResponse {
  const decoded = decodeBody(req);
  if (decoded.encoding !== 'multipart') {
    throw new InvalidRequestError(
      'Characters are created from a multipart/form-data upload.',
      'video',
      'invalid_content_type',
    );
  }
  const input = parseCreateCharacter(decoded.fields);
  if (!looksLikeMp4(input.video))
    throw new InvalidRequestError("'video' is not an MP4 file.", 'video', 'invalid_file_format');
  if (containsHumanLikeness(input.video)) {
    throw new ApiError(
      400,
      'human_likeness_not_allowed',
      'Characters cannot be created from videos showing a real human likeness.',
      'video',
    );
  }
  const character = state.characters.create('official', {
    name: input.name,
    description: null,
    createdAtMs: state.now(),
    source: {
      kind: 'upload',
      sha256: createHash('sha256').update(input.video).digest('hex'),
      bytes: input.video.length,
    },
  });
  return jsonResponse(200, characterResource(character));
}

function getCharacter(state: SimulatorState, req: SimRequest): SimResponse {
  const character = state.characters.get('official', req.params.id);
  if (!character)
    throw new NotFoundError('character_not_found', `Character with id '${req.params.id}' not found.`, 'character_id');
  return jsonResponse(200, characterResource(character));
}

/** Routes below `/v1`. More specific patterns first: `/videos/characters` is not a video id. */
export function officialRoutes(state: SimulatorState): Route[] {
  const on = (handler: (s: SimulatorState, r: SimRequest) => SimResponse | Promise<SimResponse>) => (req: SimRequest) =>
    handler(state, req);
  return [
    { name: 'createCharacter', method: 'POST', pattern: /^\/videos\/characters$/, handle: on(createCharacter) },
    { name: 'getCharacter', method: 'GET', pattern: /^\/videos\/characters\/(?<id>[^/]+)$/, handle: on(getCharacter) },
    { name: 'create', method: 'POST', pattern: /^\/videos$/, handle: on(createVideo) },
    { name: 'list', method: 'GET', pattern: /^\/videos$/, handle: on(listVideos) },
    { name: 'retrieve', method: 'GET', pattern: /^\/videos\/(?<id>[^/]+)$/, handle: on(retrieveVideo) },
    { name: 'delete', method: 'DELETE', pattern: /^\/videos\/(?<id>[^/]+)$/, handle: on(deleteVideo) },
    { name: 'remix', method: 'POST', pattern: /^\/videos\/(?<id>[^/]+)\/remix$/, handle: on(remixVideo) },
    { name: 'content', method: 'GET', pattern: /^\/videos\/(?<id>[^/]+)\/content$/, handle: on(downloadContent) },
  ];
}
