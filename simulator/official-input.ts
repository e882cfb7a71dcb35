/**
 * Request validation for the official contract (OpenAI Videos API): the rules of the OpenAPI file
 * plus the documented additions (16/20 s, 1080p on pro, characters). Strict on purpose: a
 * simulator that accepts what the real API refuses would let adapter bugs through.
 */
import { InvalidRequestError } from './errors';
import { isUploadedFile, type FormObject, type FormValue } from './multipart';
import { isProModel } from './pricing';

export const OFFICIAL_SECONDS = ['4', '8', '12', '16', '20'] as const;
const STANDARD_SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024'];
const PRO_ONLY_SIZES = ['1920x1080', '1080x1920'];
const MODEL_PATTERN = /^sora-2(-pro)?(-\d{4}-\d{2}-\d{2})?$/;
const MAX_PROMPT_CHARS = 32_000;
export const MAX_CHARACTERS_PER_VIDEO = 2;

export type InputReference =
  { kind: 'file'; bytes: number } | { kind: 'image_url'; url: string } | { kind: 'file_id'; fileId: string };

export interface CreateVideoInput {
  prompt: string;
  model: string;
  seconds: number;
  size: string;
  inputReference: InputReference | null;
  characterIds: string[];
}

function rejectUnknownFields(fields: FormObject, known: readonly string[]): void {
  for (const name of Object.keys(fields)) {
    if (!known.includes(name)) {
      throw new InvalidRequestError(`Unrecognized request argument supplied: ${name}`, name, 'unknown_parameter');
    }
  }
}

export function requirePrompt(fields: FormObject): string {
  const prompt = fields.prompt;
  if (prompt === undefined || prompt === null || prompt === '') {
    throw new InvalidRequestError("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  }
  if (typeof prompt !== 'string')
    throw new InvalidRequestError("Invalid type for 'prompt': expected a string.", 'prompt', 'invalid_type');
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw new InvalidRequestError(
      `'prompt' is too long: at most ${MAX_PROMPT_CHARS} characters.`,
      'prompt',
      'string_above_max_length',
    );
  }
  return prompt;
}

function optionalString(fields: FormObject, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new InvalidRequestError(`Invalid type for '${name}': expected a string.`, name, 'invalid_type');
  return value;
}

function parseInputReference(value: FormValue | undefined): InputReference | null {
  if (value === undefined) return null;
  if (isUploadedFile(value)) return { kind: 'file', bytes: value.data.length };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const imageUrl = value.image_url;
    const fileId = value.file_id;
    if (keys.length === 1 && typeof imageUrl === 'string' && /^(https?:\/\/|data:image\/)/.test(imageUrl)) {
      return { kind: 'image_url', url: imageUrl };
    }
    if (keys.length === 1 && typeof fileId === 'string' && fileId.length > 0) return { kind: 'file_id', fileId };
  }
  throw new InvalidRequestError(
    "Invalid 'input_reference': upload a file, or provide exactly one of 'image_url' (http(s) or data URL) or 'file_id'.",
    'input_reference',
  );
}

/** `characters` as `[{id}]` (JSON or bracket fields) or, from some form clients, a JSON string. */
function parseCharacterIds(value: FormValue | undefined): string[] {
  if (value === undefined) return [];
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      list = undefined;
    }
  }
  if (!Array.isArray(list))
    throw new InvalidRequestError("Invalid 'characters': expected an array of {id}.", 'characters', 'invalid_type');
  const ids = list.map((item: unknown) => {
    const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidRequestError(
        "Invalid 'characters': every entry needs a string 'id'.",
        'characters',
        'invalid_type',
      );
    }
    return id;
  });
  if (ids.length > MAX_CHARACTERS_PER_VIDEO) {
    throw new InvalidRequestError(
      `At most ${MAX_CHARACTERS_PER_VIDEO} characters can appear in one video.`,
      'characters',
      'too_many_characters',
    );
  }
  return ids;
}

export function parseCreateVideo(fields: FormObject): CreateVideoInput {
  rejectUnknownFields(fields, ['prompt', 'model', 'seconds', 'size', 'input_reference', 'characters']);
  const prompt = requirePrompt(fields);
  const model = optionalString(fields, 'model') ?? 'sora-2';
  if (!MODEL_PATTERN.test(model))
    throw new InvalidRequestError(`Invalid 'model': ${model} is not a video model.`, 'model');
  const seconds = optionalString(fields, 'seconds') ?? '4';
  if (!(OFFICIAL_SECONDS as readonly string[]).includes(seconds)) {
    throw new InvalidRequestError(`Invalid 'seconds': expected one of ${OFFICIAL_SECONDS.join(', ')}.`, 'seconds');
  }
  const size = optionalString(fields, 'size') ?? '720x1280';
  const proOnly = PRO_ONLY_SIZES.includes(size);
  if (!STANDARD_SIZES.includes(size) && !proOnly) {
    throw new InvalidRequestError(
      `Invalid 'size': expected one of ${[...STANDARD_SIZES, ...PRO_ONLY_SIZES].join(', ')}.`,
      'size',
    );
  }
  if (proOnly && !isProModel(model))
    throw new InvalidRequestError(`Size ${size} is only available with sora-2-pro.`, 'size');
  return {
    prompt,
    model,
    seconds: Number(seconds),
    size,
    inputReference: parseInputReference(fields.input_reference),
    characterIds: parseCharacterIds(fields.characters),
  };
}

export function parseRemix(fields: FormObject): string {
  rejectUnknownFields(fields, ['prompt']);
  return requirePrompt(fields);
}

export interface CreateCharacterInput {
  name: string;
  video: Buffer;
}

export function parseCreateCharacter(fields: FormObject): CreateCharacterInput {
  rejectUnknownFields(fields, ['video', 'name']);
  const name = fields.name;
  if (typeof name !== 'string' || name.length < 1 || name.length > 80) {
    throw new InvalidRequestError(
      "Invalid 'name': expected 1 to 80 characters.",
      'name',
      name === undefined ? 'missing_required_parameter' : 'invalid_value',
    );
  }
  const video = fields.video;
  if (!isUploadedFile(video)) {
    throw new InvalidRequestError(
      "Missing required parameter: 'video' (a file upload).",
      'video',
      'missing_required_parameter',
    );
  }
  return { name, video: video.data };
}
