/**
 * What the Kling contract renders, per model that can hold elements (contracts/kling.md §3a, §8):
 * the path it is created on, its durations, its sizes as Kling spells them (aspect ratio and
 * resolution), and the units it bills per second of output. Config, pricing and the adapter read
 * this one table, so a model's price and its limits cannot disagree.
 */

export type KlingResolution = '720p' | '1080p' | '4k';
export type KlingAudio = 'off' | 'native';

export interface KlingModel {
  /** The product segment of the create path: `POST /<product>/<model>`. */
  product: 'omni-video';
  seconds: number[];
  resolutions: KlingResolution[];
  /** Units per second of output, by audio and resolution. */
  unitsPerSecond: Record<KlingAudio, Partial<Record<KlingResolution, number>>>;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Only omni models take elements of both kinds with a prompt alone; the others need frames or a video. */
export const KLING_MODELS: Readonly<Record<string, KlingModel>> = {
  'kling-3.0-omni': {
    product: 'omni-video',
    seconds: range(3, 15),
    resolutions: ['720p', '1080p', '4k'],
    unitsPerSecond: { off: { '720p': 0.6, '1080p': 0.8, '4k': 3 }, native: { '720p': 0.8, '1080p': 1, '4k': 3 } },
  },
  // O1 takes multi-image elements only (ours are), 3-10 s, no 4K, audio "original|off": silent here.
  'kling-o1': {
    product: 'omni-video',
    seconds: range(3, 10),
    resolutions: ['720p', '1080p'],
    unitsPerSecond: { off: { '720p': 0.6, '1080p': 0.8 }, native: {} },
  },
};

export const DEFAULT_KLING_MODEL = 'kling-3.0-omni';

/** List price of one unit of a prepaid pack (S8); packs bought at a discount set `kling.unitUsd`. */
export const KLING_UNIT_USD = 0.14;

/** Each `WIDTHxHEIGHT` the adapter can order, as Kling's `aspect_ratio` and `resolution`. */
export const KLING_SIZES: Readonly<Record<string, { aspectRatio: string; resolution: KlingResolution }>> = {
  '1280x720': { aspectRatio: '16:9', resolution: '720p' },
  '720x1280': { aspectRatio: '9:16', resolution: '720p' },
  '720x720': { aspectRatio: '1:1', resolution: '720p' },
  '1920x1080': { aspectRatio: '16:9', resolution: '1080p' },
  '1080x1920': { aspectRatio: '9:16', resolution: '1080p' },
  '1080x1080': { aspectRatio: '1:1', resolution: '1080p' },
  '3840x2160': { aspectRatio: '16:9', resolution: '4k' },
  '2160x3840': { aspectRatio: '9:16', resolution: '4k' },
};

/** Offered unless the config lists sizes: 16:9 and 9:16 at 720p and 1080p (1:1 and 4K on request). */
export const DEFAULT_KLING_SIZES = ['1280x720', '720x1280', '1920x1080', '1080x1920'];

/** The sizes a model renders, from KLING_SIZES. */
export function klingSizesOf(model: KlingModel): string[] {
  return Object.entries(KLING_SIZES)
    .filter(([, s]) => model.resolutions.includes(s.resolution))
    .map(([size]) => size);
}
