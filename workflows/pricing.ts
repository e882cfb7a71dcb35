import type { PriceRule, ProviderProfile } from './types';

/**
 * Prices and duration fitting are pure so the workflow (routing, estimates) and the
 * activities (recording what a take cost) share one definition.
 */

/** Smallest duration the provider supports that is at least `requested`, else its longest. */
export function fitSeconds(profile: Pick<ProviderProfile, 'seconds'>, requested: number): number {
  const supported = [...profile.seconds].sort((a, b) => a - b);
  return supported.find((s) => s >= requested) ?? supported[supported.length - 1];
}

/** Price in USD of one video of `seconds` and `size` under `rule`. */
export function priceUsd(rule: PriceRule, seconds: number, size: string): number {
  if (rule.per === 'video') return rule.usd;
  const perSecond = rule.usdBySize[size] ?? rule.defaultUsd;
  return roundUsd(perSecond * seconds);
}

/** What one take of a scene costs on a provider, after fitting the duration. */
export function takePriceUsd(profile: ProviderProfile, seconds: number, size: string): number {
  return priceUsd(profile.pricing, fitSeconds(profile, seconds), size);
}

/** Float cents drift (0.1 * 12 = 1.2000000000000002): round to micro-dollars so sums stay exact enough. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
