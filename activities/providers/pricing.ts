/**
 * What a take costs and which duration a provider will actually render: one place for both,
 * so the estimate, the reservation and the settlement can never disagree.
 */
import type { PriceRule, ProviderProfile } from '../../workflows/types';
import { roundUsd } from '../../workflows/pricing';
import { KLING_MODELS, KLING_SIZES, type KlingAudio } from './kling-models';

const PORTRAIT_720 = '720x1280';
const LANDSCAPE_720 = '1280x720';

/** Official per-second prices by model family (contracts README). */
export const OFFICIAL_PRICES: Readonly<Record<'sora-2' | 'sora-2-pro', PriceRule>> = {
  'sora-2': { per: 'second', usdBySize: {}, defaultUsd: 0.1 },
  'sora-2-pro': {
    per: 'second',
    usdBySize: {
      [PORTRAIT_720]: 0.3,
      [LANDSCAPE_720]: 0.3,
      '1024x1792': 0.5,
      '1792x1024': 0.5,
      '1080x1920': 0.7,
      '1920x1080': 0.7,
    },
    // An unlisted size is billed at the top rate: an estimate may be high, never low.
    defaultUsd: 0.7,
  },
};

/** Relays bill per video, whatever its length (about $0.12-0.15 for 10-15 s). */
export const RELAY_PRICE: PriceRule = { per: 'video', usd: 0.12 };

/**
 * The official price rule for a model, dated snapshots included (`sora-2-pro-2025-10-06`).
 * Undefined for models we have no price for: the config must then state one.
 */
export function officialPriceFor(model: string): PriceRule | undefined {
  if (model === 'sora-2-pro' || model.startsWith('sora-2-pro-')) return OFFICIAL_PRICES['sora-2-pro'];
  if (model === 'sora-2' || /^sora-2-\d{4}-\d{2}-\d{2}$/.test(model)) return OFFICIAL_PRICES['sora-2'];
  return undefined;
}

/**
 * Why a provider cannot render this request as asked, or undefined when it can. Checked before
 * submitting so an unsupported take fails fast and free instead of at the upstream.
 */
export function unsupportedReason(
  profile: Pick<ProviderProfile, 'seconds' | 'sizes'>,
  request: { seconds: number; size: string },
): string | undefined {
  if (!profile.seconds.includes(request.seconds)) {
    return `duration ${request.seconds}s is not one of ${profile.seconds.join(', ')} (fit it with fitSeconds)`;
  }
  if (!profile.sizes.includes(request.size)) return `size ${request.size} is not one of ${profile.sizes.join(', ')}`;
  return undefined;
}

/**
 * Kling bills units per second of output by resolution and audio (kling-models.ts), a unit at
 * `unitUsd`: per second per size here. Undefined for a model or audio the table does not price.
 */
export function klingPriceFor(model: string, audio: KlingAudio, unitUsd: number): PriceRule | undefined {
  const rates = KLING_MODELS[model]?.unitsPerSecond[audio];
  if (!rates || Object.keys(rates).length === 0) return undefined;
  const usdBySize: Record<string, number> = {};
  for (const [size, { resolution }] of Object.entries(KLING_SIZES)) {
    const units = rates[resolution];
    if (units !== undefined) usdBySize[size] = roundUsd(units * unitUsd);
  }
  return { per: 'second', usdBySize, defaultUsd: Math.max(...Object.values(usdBySize)) };
}
