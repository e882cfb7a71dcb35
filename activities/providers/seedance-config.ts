/**
 * What the `seedance` contract (Seedance 2.0 on BytePlus ModelArk) takes beyond every provider's
 * fields, its sizes and durations, and its price: Ark bills tokens, `(input video s + output s) ×
 * width × height × 24 / 1024`, so the per-second estimate is that formula at the configured rate.
 * Facts and their tags are in ../shared/contracts/seedance.md.
 */
import { z } from 'zod';
import type { PriceRule } from '../../workflows/types';

/** The model a seedance provider uses unless its entry names one (BytePlus id). */
export const DEFAULT_SEEDANCE_MODEL = 'dreamina-seedance-2-0-260128';

/**
 * USD per million output tokens unless the entry says. BytePlus publishes no USD list price for
 * 2.0 [U]; resellers quote about $5-7 (Volcengine's 46 CNY is about $6.4): take the top, so an
 * estimate may be high, never low.
 */
export const DEFAULT_SEEDANCE_USD_PER_MILLION_TOKENS = 7;

/** Durations 2.0 renders (4-15 s; `-1`, "the model chooses", is never sent). */
export const SEEDANCE_SECONDS = Array.from({ length: 12 }, (_, i) => i + 4);

/** Running tasks per account are not published [U]; one field report for 2.5 saw 3. */
export const SEEDANCE_DEFAULT_CONCURRENCY = 3;

export type SeedanceResolution = '480p' | '720p' | '1080p';
export type SeedanceRatio = '16:9' | '4:3' | '1:1' | '3:4' | '9:16' | '21:9';

/** Output pixels per (resolution, ratio), as Seedance renders them [U for 2.0: the 1.x table]. */
const DIMENSIONS: Record<SeedanceResolution, Record<SeedanceRatio, [number, number]>> = {
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

export interface SeedanceFormat {
  resolution: SeedanceResolution;
  ratio: SeedanceRatio;
  width: number;
  height: number;
}

/** Every size the contract renders, `WIDTHxHEIGHT` → its `resolution` and `ratio` (sent explicitly, never `adaptive`). */
export const SEEDANCE_FORMATS: ReadonlyMap<string, SeedanceFormat> = new Map(
  Object.entries(DIMENSIONS).flatMap(([resolution, byRatio]) =>
    Object.entries(byRatio).map(([ratio, [width, height]]): [string, SeedanceFormat] => [
      `${width}x${height}`,
      { resolution: resolution as SeedanceResolution, ratio: ratio as SeedanceRatio, width, height },
    ]),
  ),
);

/** The sizes the other contracts share, so a chain with seedance in it needs no size of its own. */
export const SEEDANCE_DEFAULT_SIZES = ['720x1280', '1280x720'];

/** fast and mini models render 480p and 720p only. */
export function seedanceModelResolutions(model: string): SeedanceResolution[] {
  return /-(fast|mini)-/.test(model) ? ['480p', '720p'] : ['480p', '720p', '1080p'];
}

/** Ark's token formula: output seconds (plus input video seconds) × width × height × 24 fps / 1024. */
export function seedanceTokens(size: string, seconds: number, inputVideoSeconds = 0): number {
  const format = SEEDANCE_FORMATS.get(size);
  if (!format) throw new Error(`seedance: no format for size ${size}`);
  return Math.ceil(((seconds + inputVideoSeconds) * format.width * format.height * 24) / 1024);
}

/** The per-second estimate of each configured size at `usdPerMillionTokens`; unlisted sizes at the top rate. */
export function seedancePriceRule(sizes: readonly string[], usdPerMillionTokens: number): PriceRule {
  const usdBySize = Object.fromEntries(
    sizes.map((size) => [size, roundMicro((seedanceTokens(size, 1) * usdPerMillionTokens) / 1e6)]),
  );
  return { per: 'second', usdBySize, defaultUsd: Math.max(...Object.values(usdBySize)) };
}

/** What Ark bills for a finished task's `usage.completion_tokens`. */
export function seedanceTokensUsd(tokens: number, usdPerMillionTokens: number): number {
  return roundMicro((tokens * usdPerMillionTokens) / 1e6);
}

/** How prompts name the reference images by order: `Image 1` (the docs), `@Image1` or `[图1]` (resellers, Chinese docs). */
export const REFERENCE_STYLES = ['Image N', '@ImageN', '[图N]'] as const;
export type ReferenceStyle = (typeof REFERENCE_STYLES)[number];

const httpUrl = z
  .string({ error: 'must be an http(s) URL' })
  .refine((value) => /^https?:\/\/[^\s/]+/i.test(value), { error: 'must be an http(s) URL' });

/** The entry's `seedance: {...}` block. */
export const seedanceSettingsSchema = z.strictObject(
  {
    usdPerMillionTokens: z
      .number({ error: 'must be a number of USD per million tokens' })
      .positive({ error: 'must be a positive number of USD per million tokens' })
      .optional(),
    /** Ark's default is true; the spec asks for no audio, so false is sent unless set. */
    generateAudio: z.boolean({ error: 'must be true or false' }).optional(),
    watermark: z.boolean({ error: 'must be true or false' }).optional(),
    /** Where Ark POSTs its (unsigned) task callbacks: the gateway's `/webhooks/<provider>`. */
    callbackUrl: httpUrl.optional(),
    /**
     * Where the worker's reference stills are served publicly as `<base>/<sha256>.png` (a bucket the
     * stills directory is synced to). Unset: the stills go in the request as base64 data URIs.
     */
    referenceImageBaseUrl: httpUrl.optional(),
    referenceStyle: z
      .enum(REFERENCE_STYLES, { error: `must be one of ${REFERENCE_STYLES.map((s) => `"${s}"`).join(', ')}` })
      .optional(),
    /** Reference stills sent per character (frontal first); at most 9 images go with a request. */
    stillsPerCharacter: z
      .number({ error: 'must be an integer from 1 to 9' })
      .int({ error: 'must be an integer from 1 to 9' })
      .min(1, { error: 'must be an integer from 1 to 9' })
      .max(9, { error: 'must be an integer from 1 to 9' })
      .optional(),
    executionExpiresAfterSeconds: z
      .number({ error: 'must be an integer number of seconds from 3600 to 259200' })
      .int({ error: 'must be an integer number of seconds from 3600 to 259200' })
      .min(3600, { error: 'must be at least 3600 (Ark refuses less)' })
      .max(259_200, { error: 'must be at most 259200 (72 h, Ark refuses more)' })
      .optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object' : undefined) },
);

export type SeedanceSettingsInput = z.output<typeof seedanceSettingsSchema>;

/** The settings with every default applied. */
export interface SeedanceSettings {
  usdPerMillionTokens: number;
  generateAudio: boolean;
  watermark: boolean;
  callbackUrl?: string;
  referenceImageBaseUrl?: string;
  referenceStyle: ReferenceStyle;
  stillsPerCharacter: number;
  executionExpiresAfterSeconds?: number;
}

export function resolveSeedanceSettings(input: SeedanceSettingsInput | undefined): SeedanceSettings {
  return {
    usdPerMillionTokens: input?.usdPerMillionTokens ?? DEFAULT_SEEDANCE_USD_PER_MILLION_TOKENS,
    generateAudio: input?.generateAudio ?? false,
    watermark: input?.watermark ?? false,
    ...(input?.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
    ...(input?.referenceImageBaseUrl ? { referenceImageBaseUrl: input.referenceImageBaseUrl.replace(/\/+$/, '') } : {}),
    referenceStyle: input?.referenceStyle ?? 'Image N',
    stillsPerCharacter: input?.stillsPerCharacter ?? 3,
    ...(input?.executionExpiresAfterSeconds !== undefined
      ? { executionExpiresAfterSeconds: input.executionExpiresAfterSeconds }
      : {}),
  };
}

/**
 * Problems of a seedance entry's sizes and seconds against the contract and its model, each as
 * `[path within the entry, message]` for the config's issue list.
 */
export function seedanceEntryProblems(entry: {
  model?: string;
  sizes?: string[];
  seconds?: number[];
}): Array<[Array<string | number>, string]> {
  const problems: Array<[Array<string | number>, string]> = [];
  const model = entry.model ?? DEFAULT_SEEDANCE_MODEL;
  const resolutions = seedanceModelResolutions(model);
  entry.sizes?.forEach((size, i) => {
    const format = SEEDANCE_FORMATS.get(size);
    if (!format) {
      problems.push([
        ['sizes', i],
        `${size} is not a size Seedance renders; use one of ${[...SEEDANCE_FORMATS.keys()].join(', ')}`,
      ]);
    } else if (!resolutions.includes(format.resolution)) {
      problems.push([
        ['sizes', i],
        `${size} is ${format.resolution}, which ${model} does not render (it renders ${resolutions.join(', ')}); drop it or use the standard model`,
      ]);
    }
  });
  entry.seconds?.forEach((seconds, i) => {
    if (!SEEDANCE_SECONDS.includes(seconds))
      problems.push([['seconds', i], `${seconds} s is outside what Seedance 2.0 renders (4-15 s)`]);
  });
  return problems;
}

function roundMicro(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
