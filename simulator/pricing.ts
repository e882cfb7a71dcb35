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
