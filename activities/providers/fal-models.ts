/**
 * The fal reference-to-video models sora-series knows (contracts/fal-queue.md §9): what each
 * renders, how many reference images it takes, and how its input names them. Each model spells
 * the character's images its own way (`@Image1`, `@Element1`, `<IMAGE_REF_0>`, none), so the
 * table is the one place that knows those spellings; fal.ts only looks a model up here.
 */
import type { SubmitRequest } from './provider';

/** One character as a model input holds it: its name, its description and its reference image URLs (frontal first). */
export interface FalCast {
  name: string;
  description: string;
  references: string[];
}

export interface FalModelInput {
  prompt: string;
  seconds: number;
  size: string;
  generateAudio: boolean;
}

export type FalFamily = 'seedance' | 'kling-o3' | 'veo3.1' | 'gemini-omni';

export interface FalModel {
  family: FalFamily;
  /** Durations (s) the model's `duration` field takes. */
  seconds: number[];
  /** Sizes we can ask for (aspect ratio, and resolution where the model has the field). */
  sizes: string[];
  /** Reference images per request, all characters together. */
  maxImages: number;
  /** Images one character needs at least (Kling's element: a frontal and at least one other). */
  minImagesPerCharacter: number;
  maxImagesPerCharacter: number;
  /** Characters one request can tell apart. */
  maxCharacters: number;
  /** The mention of cast member `index` whose images start at `firstImage` (0-based, over all images). */
  mention(cast: FalCast, index: number, firstImage: number): string;
  /** The request body, with the prompt already rendered and the cast in mention order. */
  body(input: FalModelInput, cast: FalCast[]): Record<string, unknown>;
}

const PORTRAIT = '720x1280';
const LANDSCAPE = '1280x720';
const SIZES_720 = [PORTRAIT, LANDSCAPE];
const SIZES_1080 = ['1080x1920', '1920x1080'];

/** `16:9`, `9:16` or `1:1` of a `WIDTHxHEIGHT`. */
export function aspectRatioOf(size: string): string {
  const [w, h] = size.split('x').map(Number);
  if (w === h) return '1:1';
  return w > h ? '16:9' : '9:16';
}

/** `720p` / `1080p` by the short side. */
function resolutionOf(size: string): string {
  const short = Math.min(...size.split('x').map(Number));
  return short >= 1080 ? '1080p' : short >= 720 ? '720p' : '480p';
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const images = (cast: FalCast[]) => cast.flatMap((c) => c.references);
const tokens = (count: number, first: number, token: (n: number) => string) =>
  range(first, first + count - 1)
    .map(token)
    .join(' ');

const SEEDANCE: FalModel = {
  family: 'seedance',
  seconds: range(4, 15),
  sizes: [...SIZES_720, ...SIZES_1080],
  maxImages: 9,
  minImagesPerCharacter: 1,
  maxImagesPerCharacter: 3,
  maxCharacters: 3,
  mention: (cast, _i, first) => `${cast.name} (${tokens(cast.references.length, first + 1, (n) => `@Image${n}`)})`,
  body: (input, cast) => ({
    prompt: input.prompt,
    image_urls: images(cast),
    duration: String(input.seconds),
    aspect_ratio: aspectRatioOf(input.size),
    resolution: resolutionOf(input.size),
    generate_audio: input.generateAudio,
  }),
};

const KLING_O3: FalModel = {
  family: 'kling-o3',
  seconds: range(3, 15),
  sizes: SIZES_720,
  // an element is a frontal image plus 1-3 others; more than 4 elements is not documented
  maxImages: 16,
  minImagesPerCharacter: 2,
  maxImagesPerCharacter: 4,
  maxCharacters: 4,
  mention: (_cast, index) => `@Element${index + 1}`,
  body: (input, cast) => ({
    prompt: input.prompt,
    elements: cast.map((c) => ({ frontal_image_url: c.references[0], reference_image_urls: c.references.slice(1) })),
    duration: String(input.seconds),
    aspect_ratio: aspectRatioOf(input.size),
    generate_audio: input.generateAudio,
  }),
};

const VEO_31: FalModel = {
  family: 'veo3.1',
  // only "8s" is confirmed for reference-to-video (contract file: unconfirmed)
  seconds: [8],
  sizes: [...SIZES_720, ...SIZES_1080],
  // Google allows up to 3 reference images (unconfirmed); the model has no token to bind them,
  // so one character per request
  maxImages: 3,
  minImagesPerCharacter: 1,
  maxImagesPerCharacter: 3,
  maxCharacters: 1,
  mention: (cast) => `${cast.name} (the person in the reference images)`,
  body: (input, cast) => ({
    prompt: input.prompt,
    image_urls: images(cast),
    duration: `${input.seconds}s`,
    aspect_ratio: aspectRatioOf(input.size),
    resolution: resolutionOf(input.size),
    generate_audio: input.generateAudio,
  }),
};

const GEMINI_OMNI: FalModel = {
  family: 'gemini-omni',
  seconds: range(3, 10),
  sizes: SIZES_720,
  maxImages: 9,
  minImagesPerCharacter: 1,
  maxImagesPerCharacter: 3,
  maxCharacters: 3,
  mention: (cast, _i, first) => `${cast.name} (${tokens(cast.references.length, first, (n) => `<IMAGE_REF_${n}>`)})`,
  // audio is always on; the field does not exist
  body: (input, cast) => ({
    prompt: input.prompt,
    image_urls: images(cast),
    duration: input.seconds,
    aspect_ratio: aspectRatioOf(input.size),
  }),
};

/** Model ids (`owner/app/path`) by family: the variants of one model share its input. */
const FAMILY_PATTERNS: ReadonlyArray<[RegExp, FalModel]> = [
  [/^bytedance\/seedance-2\.0\/(fast\/|mini\/)?reference-to-video$/, SEEDANCE],
  [/^fal-ai\/kling-video\/o3\/(pro|standard|4k)\/reference-to-video$/, KLING_O3],
  [/^fal-ai\/veo3\.1\/reference-to-video$/, VEO_31],
  [/^google\/gemini-omni-flash\/reference-to-video$/, GEMINI_OMNI],
];

/** Model ids a fal provider may name, one per known variant (for error messages and docs). */
export const KNOWN_FAL_MODELS = [
  'bytedance/seedance-2.0/reference-to-video',
  'bytedance/seedance-2.0/fast/reference-to-video',
  'bytedance/seedance-2.0/mini/reference-to-video',
  'fal-ai/kling-video/o3/pro/reference-to-video',
  'fal-ai/kling-video/o3/standard/reference-to-video',
  'fal-ai/kling-video/o3/4k/reference-to-video',
  'fal-ai/veo3.1/reference-to-video',
  'google/gemini-omni-flash/reference-to-video',
] as const;

export function falModel(modelId: string): FalModel | undefined {
  return FAMILY_PATTERNS.find(([pattern]) => pattern.test(modelId))?.[1];
}

/**
 * The `{owner}/{app}` part of a model id that status, result and cancel URLs use (never the
 * path); namespaced ids (`workflows/…`, `comfy/…`) keep their prefix.
 */
export function falAppOf(modelId: string): string {
  const parts = modelId.split('/');
  const keep = parts[0] === 'workflows' || parts[0] === 'comfy' ? 3 : 2;
  return parts.slice(0, keep).join('/');
}

/**
 * The characters this model can hold in one request (referenced on this provider, within its
 * image budget), with each one's mention; the rest are described by renderMentions.
 */
export function falCastOf(
  request: SubmitRequest,
  model: FalModel,
): { members: FalCast[]; mentions: Map<unknown, string> } {
  const held = (request.characters ?? []).filter(
    (c) => c.ref?.hold === 'referenced' && (c.ref.references?.length ?? 0) >= model.minImagesPerCharacter,
  );
  const chosen = held.slice(0, model.maxCharacters);
  const perCharacter = Math.min(model.maxImagesPerCharacter, Math.floor(model.maxImages / Math.max(1, chosen.length)));
  const members: FalCast[] = [];
  const mentions = new Map<unknown, string>();
  let firstImage = 0;
  for (const character of chosen) {
    const cast = {
      name: character.name,
      description: character.description,
      references: character.ref!.references!.slice(0, perCharacter),
    };
    if (cast.references.length < model.minImagesPerCharacter) continue;
    mentions.set(character, model.mention(cast, members.length, firstImage));
    members.push(cast);
    firstImage += cast.references.length;
  }
  return { members, mentions };
}
