/**
 * The inputs of the four reference-to-video models the fal twin serves (contracts/fal-queue.md
 * §9), checked as their schemas do: a wrong field is a 422 naming it. Written apart from the
 * adapter's model table on purpose, so a disagreement between the two fails a test.
 */
import { FalModelError } from './fal-errors';

export interface FalJobInput {
  prompt: string;
  seconds: number;
  /** `WIDTHxHEIGHT` the video is rendered at (aspect ratio and resolution). */
  size: string;
  /** Every reference image URL the input names (the model downloads them when it starts). */
  imageUrls: string[];
  audio: boolean;
}

type Fields = Record<string, unknown>;

const SIZE_BY: Record<string, Record<string, string>> = {
  '16:9': { '480p': '854x480', '720p': '1280x720', '1080p': '1920x1080', '4k': '3840x2160' },
  '9:16': { '480p': '480x854', '720p': '720x1280', '1080p': '1080x1920', '4k': '2160x3840' },
  '1:1': { '480p': '480x480', '720p': '720x720', '1080p': '1080x1080', '4k': '2160x2160' },
  '4:3': { '480p': '640x480', '720p': '960x720', '1080p': '1440x1080', '4k': '2880x2160' },
  '3:4': { '480p': '480x640', '720p': '720x960', '1080p': '1080x1440', '4k': '2160x2880' },
  '21:9': { '480p': '1120x480', '720p': '1680x720', '1080p': '2520x1080', '4k': '5040x2160' },
};

function prompt(fields: Fields): string {
  const value = fields.prompt;
  if (typeof value !== 'string' || value.trim() === '') throw new FalModelError('prompt', 'missing', 'field required');
  return value;
}

function urls(fields: Fields, name: string, max: number, required: boolean): string[] {
  const value = fields[name];
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || (required && value.length === 0))
    throw new FalModelError(name, 'missing', 'field required: a list of image URLs');
  if (value.length > max) throw new FalModelError(name, 'value_error', `at most ${max} images`);
  if (!value.every((u) => typeof u === 'string' && /^https?:\/\//.test(u)))
    throw new FalModelError(name, 'value_error', 'every entry must be an http(s) URL');
  return value as string[];
}

function choice<T extends string>(fields: Fields, name: string, allowed: readonly T[], fallback: T): T {
  const value = fields[name] ?? fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T))
    throw new FalModelError(name, 'value_error', `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function flag(fields: Fields, name: string, fallback: boolean): boolean {
  const value = fields[name] ?? fallback;
  if (typeof value !== 'boolean') throw new FalModelError(name, 'value_error', 'must be a boolean');
  return value;
}

const strings = (from: number, to: number, suffix = '') =>
  Array.from({ length: to - from + 1 }, (_, i) => `${from + i}${suffix}`);

function seedance(fields: Fields): FalJobInput {
  const imageUrls = urls(fields, 'image_urls', 9, false);
  const duration = choice(fields, 'duration', ['auto', ...strings(4, 15)], 'auto');
  const aspect = choice(fields, 'aspect_ratio', ['auto', '21:9', '16:9', '4:3', '1:1', '3:4', '9:16'], 'auto');
  const resolution = choice(fields, 'resolution', ['480p', '720p', '1080p', '4k'], '720p');
  return {
    prompt: prompt(fields),
    seconds: duration === 'auto' ? 5 : Number(duration),
    size: SIZE_BY[aspect === 'auto' ? '16:9' : aspect][resolution],
    imageUrls,
    audio: flag(fields, 'generate_audio', true),
  };
}

function klingO3(fields: Fields): FalJobInput {
  const elements = fields.elements ?? [];
  if (!Array.isArray(elements)) throw new FalModelError('elements', 'value_error', 'must be a list of elements');
  const imageUrls: string[] = [];
  elements.forEach((element: unknown) => {
    const e = (element ?? {}) as Fields;
    if (typeof e.frontal_image_url !== 'string')
      throw new FalModelError('elements', 'missing', 'every element needs frontal_image_url');
    const refs = urls(e, 'reference_image_urls', 3, true);
    imageUrls.push(e.frontal_image_url, ...refs);
  });
  imageUrls.push(...urls(fields, 'image_urls', 4, false));
  const aspect = choice(fields, 'aspect_ratio', ['16:9', '9:16', '1:1'], '16:9');
  return {
    prompt: prompt(fields),
    seconds: Number(choice(fields, 'duration', strings(3, 15), '5')),
    size: SIZE_BY[aspect]['720p'],
    imageUrls,
    audio: flag(fields, 'generate_audio', false),
  };
}

function veo31(fields: Fields): FalJobInput {
  const aspect = choice(fields, 'aspect_ratio', ['16:9', '9:16'], '16:9');
  const resolution = choice(fields, 'resolution', ['720p', '1080p', '4k'], '720p');
  return {
    prompt: prompt(fields),
    // only 8 s is documented for reference-to-video
    seconds: Number(choice(fields, 'duration', ['8s'], '8s').replace('s', '')),
    size: SIZE_BY[aspect][resolution],
    imageUrls: urls(fields, 'image_urls', 3, true),
    audio: flag(fields, 'generate_audio', true),
  };
}

function geminiOmni(fields: Fields): FalJobInput {
  const duration = fields.duration ?? 8;
  if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 3 || duration > 10)
    throw new FalModelError('duration', 'value_error', 'must be an integer from 3 to 10');
  const aspect = choice(fields, 'aspect_ratio', ['16:9', '9:16'], '16:9');
  return {
    prompt: prompt(fields),
    seconds: duration,
    size: SIZE_BY[aspect]['720p'],
    imageUrls: urls(fields, 'image_urls', 9, true),
    audio: true,
  };
}

const MODELS: ReadonlyArray<[RegExp, (fields: Fields) => FalJobInput]> = [
  [/^bytedance\/seedance-2\.0\/(fast\/|mini\/)?reference-to-video$/, seedance],
  [/^fal-ai\/kling-video\/o3\/(pro|standard|4k)\/reference-to-video$/, klingO3],
  [/^fal-ai\/veo3\.1\/reference-to-video$/, veo31],
  [/^google\/gemini-omni-flash\/reference-to-video$/, geminiOmni],
];

/** The model's checked input, or undefined when the twin serves no such model (a 404). */
export function parseFalInput(modelId: string, fields: Fields): FalJobInput | undefined {
  const parse = MODELS.find(([pattern]) => pattern.test(modelId))?.[1];
  return parse?.(fields);
}
