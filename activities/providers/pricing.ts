/**
 * What a take costs and which duration a provider will actually render: one place for both,
 * so the estimate, the reservation and the settlement can never disagree.
 */
import type { PriceRule } from '../../workflows/types';
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
 * fal bills per second of output, per model (contracts/fal-queue.md §9). Seedance's per-token
 * price is $0.014 per 1k tokens, tokens = h·w·s·24/1024: $0.3024/s at 720p, $0.6804/s at 1080p
 * (fast ×0.8); audio is free there. Kling O3 Pro's figure is a third party's (unconfirmed); Gemini
 * Omni's is the contract file's per-second estimate of its token price. Undefined for a model
 * variant with no known price: the config must then state one.
 */
export function falPriceFor(model: string, generateAudio: boolean): PriceRule | undefined {
  const bySize = (usd720: number, usd1080: number): PriceRule => ({
    per: 'second',
    usdBySize: { [PORTRAIT_720]: usd720, [LANDSCAPE_720]: usd720, '1080x1920': usd1080, '1920x1080': usd1080 },
    defaultUsd: usd1080,
  });
  const flat = (usd: number): PriceRule => ({ per: 'second', usdBySize: {}, defaultUsd: usd });
  switch (model) {
    case 'bytedance/seedance-2.0/reference-to-video':
      return bySize(0.3024, 0.6804);
    case 'bytedance/seedance-2.0/fast/reference-to-video':
      return bySize(0.2419, 0.5443);
    case 'fal-ai/kling-video/o3/pro/reference-to-video':
      return flat(generateAudio ? 0.14 : 0.112);
    case 'fal-ai/kling-video/o3/4k/reference-to-video':
      return flat(0.42);
    case 'fal-ai/veo3.1/reference-to-video':
      return flat(generateAudio ? 0.4 : 0.2);
    case 'google/gemini-omni-flash/reference-to-video':
      return flat(0.13);
    default:
      return undefined;
  }
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
