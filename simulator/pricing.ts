/**
 * What each upstream bills for an accepted job. Kept apart from the orchestrator's own price table
 * on purpose: the simulator plays the upstream, so a disagreement between the two shows up in tests
 * instead of being hidden by shared code.
 */

export const RELAY_PRICE_PER_VIDEO_USD = 0.12;

const PRO_PER_SECOND_BY_SIZE: Readonly<Record<string, number>> = {
  '720x1280': 0.3,
  '1280x720': 0.3,
  '1024x1792': 0.5,
  '1792x1024': 0.5,
  '1080x1920': 0.7,
  '1920x1080': 0.7,
};
const SORA_2_PER_SECOND = 0.1;

export function isProModel(model: string): boolean {
  return model === 'sora-2-pro' || model.startsWith('sora-2-pro-');
}

/** Official price: per second of output, by model family and (for pro) resolution. */
export function officialPriceUsd(model: string, size: string, seconds: number): number {
  const perSecond = isProModel(model) ? (PRO_PER_SECOND_BY_SIZE[size] ?? 0.7) : SORA_2_PER_SECOND;
  return roundUsd(perSecond * seconds);
}

/** Float cents drift (0.1 * 12 = 1.2000000000000002): round to micro-dollars. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * What fal bills per second of output, by model (contracts/fal-queue.md §9): Seedance by tokens
 * (h·w·s·24/1024 at $0.014 per 1k, audio free), Kling O3 and Veo 3.1 more with audio, Gemini Omni
 * its per-second estimate. A model the twin does not price bills Seedance's 1080p rate.
 */
export function falPriceUsd(model: string, size: string, seconds: number, audio: boolean): number {
  const [w, h] = size.split('x').map(Number);
  const tokenUsd = (scale: number) => ((w * h * 24) / 1024 / 1000) * 0.014 * scale;
  let perSecond: number;
  if (/^bytedance\/seedance-2\.0\/fast\//.test(model)) perSecond = tokenUsd(0.8);
  else if (/^bytedance\/seedance-2\.0\//.test(model)) perSecond = tokenUsd(1);
  else if (model === 'fal-ai/kling-video/o3/4k/reference-to-video') perSecond = 0.42;
  else if (/^fal-ai\/kling-video\/o3\//.test(model)) perSecond = audio ? 0.14 : 0.112;
  else if (model === 'fal-ai/veo3.1/reference-to-video') perSecond = audio ? 0.4 : 0.2;
  else if (model === 'google/gemini-omni-flash/reference-to-video') perSecond = 0.13;
  else perSecond = 0.6804;
  return roundUsd(perSecond * seconds);
}

/**
 * Seedance 2.0 on Ark bills tokens of succeeded tasks only. BytePlus publishes no USD rate; the
 * twin bills the top of the resellers' quotes (seedance.md §8).
 */
export const SEEDANCE_USD_PER_MILLION_TOKENS = 7;

export function seedancePriceUsd(tokens: number): number {
  return roundUsd((tokens * SEEDANCE_USD_PER_MILLION_TOKENS) / 1e6);
}

/** Kling's list price of one unit of a prepaid pack. */
export const KLING_UNIT_USD = 0.14;

/** Units per second of output, by model, audio and resolution (Kling pricing page, 2026-09). */
const KLING_UNITS_PER_SECOND: Readonly<Record<string, Record<string, Record<string, number>>>> = {
  'kling-3.0-omni': { off: { '720p': 0.6, '1080p': 0.8, '4k': 3 }, native: { '720p': 0.8, '1080p': 1, '4k': 3 } },
  'kling-o1': { off: { '720p': 0.6, '1080p': 0.8 } },
};

/** Units a Kling task deducts, or undefined for a combination Kling does not render. */
export function klingUnits(model: string, audio: string, resolution: string, seconds: number): number | undefined {
  const perSecond = KLING_UNITS_PER_SECOND[model]?.[audio]?.[resolution];
  return perSecond === undefined ? undefined : Math.round(perSecond * seconds * 1000) / 1000;
}
