/**
 * What the seedance twin reads from a create request: the JSON body, the content items (text,
 * reference images checked against Ark's limits, videos, audio) and the ratio `adaptive` picks,
 * refused in Ark's words (`InvalidParameter`).
 */
import { pngSize } from '../common/png-size';
import { ApiError } from './errors';
import type { SimRequest } from './http';
import type { SimulatorState } from './state';

export const RATIOS = ['16:9', '4:3', '1:1', '3:4', '9:16', '21:9'] as const;
export type Ratio = (typeof RATIOS)[number];

/** Ark's refusal of one parameter. */
export const invalid = (param: string, problem: string) =>
  new ApiError(
    400,
    'InvalidParameter',
    `The parameter \`${param}\` specified in the request is not valid: ${problem}.`,
    param,
  );

export type Fields = Record<string, unknown>;

export function parseJson(req: SimRequest): Fields {
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'InvalidParameter', 'The request body is not valid JSON.', null);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ApiError(400, 'InvalidParameter', 'The request body must be a JSON object.', null);
  return value as Fields;
}

export interface ParsedContent {
  text: string;
  images: Array<{ url: string; role: string }>;
  videos: string[];
  audios: number;
  /** Aspect of the first image that has one (what `adaptive` follows). */
  firstAspect?: number;
}

/** Checks one image URL (data URI, web URL or asset id) against Ark's limits. */
function checkImage(state: SimulatorState, url: string, index: number): number | undefined {
  const param = `content[${index}].image_url.url`;
  if (url.startsWith('asset://')) {
    const revoked = state.faults.revokedCharacterError('seedance', 'create', [url.slice('asset://'.length)]);
    if (revoked)
      throw new ApiError(400, 'InvalidParameter', `The asset ${url} is not Active and cannot be referenced.`, param);
    return undefined;
  }
  if (/^https?:\/\//.test(url)) return undefined; // the twin does not fetch the web
  const match = /^data:image\/(png|jpeg|jpg|webp|bmp|tiff|gif);base64,([A-Za-z0-9+/=]+)$/.exec(url);
  if (!match)
    throw invalid(param, 'expected an http(s) URL, a base64 data URI (data:image/<format>;base64,...) or asset://<id>');
  const bytes = Buffer.from(match[2], 'base64');
  if (bytes.length >= 30 * 1024 * 1024) throw invalid(param, 'images must be smaller than 30 MB');
  const size = match[1] === 'png' ? pngSize(bytes) : undefined;
  if (match[1] === 'png' && !size) throw invalid(param, 'the image data could not be decoded');
  if (!size) return undefined;
  const { width, height } = size;
  if (Math.min(width, height) < 300 || Math.max(width, height) > 6000)
    throw invalid(param, `image is ${width}x${height}; each side must be 300-6000 px`);
  const aspect = width / height;
  if (aspect < 0.4 || aspect > 2.5) throw invalid(param, `image aspect ratio ${aspect.toFixed(2)} is outside 0.4-2.5`);
  return aspect;
}

export function parseContent(state: SimulatorState, value: unknown): ParsedContent {
  if (!Array.isArray(value) || value.length === 0) {
    if (value === undefined)
      throw new ApiError(400, 'MissingParameter', 'The request is missing `content`.', 'content');
    throw invalid('content', 'expected a non-empty array');
  }
  const parsed: ParsedContent = { text: '', images: [], videos: [], audios: 0 };
  value.forEach((item: unknown, i) => {
    const entry = (item ?? {}) as Fields;
    const type = entry.type;
    if (type === 'text') {
      if (typeof entry.text !== 'string') throw invalid(`content[${i}].text`, 'expected a string');
      parsed.text += (parsed.text ? '\n' : '') + entry.text;
    } else if (type === 'image_url') {
      const url = (entry.image_url as Fields | undefined)?.url;
      const role = entry.role ?? 'reference_image';
      if (typeof url !== 'string') throw invalid(`content[${i}].image_url.url`, 'expected a string');
      if (role !== 'first_frame' && role !== 'last_frame' && role !== 'reference_image')
        throw invalid(`content[${i}].role`, 'expected first_frame, last_frame or reference_image');
      const aspect = checkImage(state, url, i);
      if (parsed.firstAspect === undefined && aspect !== undefined) parsed.firstAspect = aspect;
      parsed.images.push({ url, role: role as string });
    } else if (type === 'video_url') {
      const url = (entry.video_url as Fields | undefined)?.url;
      if (typeof url !== 'string' || !/^(https?|asset):\/\//.test(url))
        throw invalid(`content[${i}].video_url.url`, 'reference videos must be a web URL or an asset (no base64)');
      if (entry.role !== 'reference_video') throw invalid(`content[${i}].role`, 'expected reference_video');
      parsed.videos.push(url);
    } else if (type === 'audio_url') {
      parsed.audios += 1;
    } else {
      throw invalid(`content[${i}].type`, 'expected text, image_url, video_url or audio_url');
    }
  });
  const references = parsed.images.filter((image) => image.role === 'reference_image').length;
  const frames = parsed.images.length - references;
  if (references && frames)
    throw new ApiError(
      400,
      'InvalidParameter.TaskTypeConstraint',
      'First/last frame images and reference images cannot be mixed.',
      'content',
    );
  if (references > 9) throw invalid('content', `at most 9 reference images, got ${references}`);
  if (frames > 2) throw invalid('content', `at most a first and a last frame, got ${frames} frame images`);
  if (parsed.videos.length > 3) throw invalid('content', `at most 3 reference videos, got ${parsed.videos.length}`);
  if (parsed.audios > 3) throw invalid('content', `at most 3 reference audios, got ${parsed.audios}`);
  if (parsed.audios && !parsed.images.length && !parsed.videos.length)
    throw invalid('content', 'reference audio needs at least one image or video');
  if (parsed.images.length + parsed.videos.length + parsed.audios > 12) throw invalid('content', 'at most 12 files');
  if (!parsed.text && !parsed.images.length) throw invalid('content', 'give a text prompt or an image');
  return parsed;
}

export function optionalBoolean(fields: Fields, name: string, fallback: boolean): boolean {
  const value = fields[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(name, 'expected true or false');
  return value;
}

/** `adaptive`: the first image's aspect picks the nearest ratio; a text-only prompt gets 16:9. */
export function adaptiveRatio(aspect: number | undefined): Ratio {
  if (aspect === undefined) return '16:9';
  const [w, h] = [16, 9];
  let best: Ratio = '16:9';
  let bestDistance = Math.abs(Math.log(aspect / (w / h)));
  for (const ratio of RATIOS) {
    const [rw, rh] = ratio.split(':').map(Number);
    const distance = Math.abs(Math.log(aspect / (rw / rh)));
    if (distance < bestDistance) [best, bestDistance] = [ratio, distance];
  }
  return best;
}
