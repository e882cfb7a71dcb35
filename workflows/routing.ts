import { takePriceUsd } from './pricing';
import type { CharacterPassport, ProviderProfile, RoutingPolicy, SceneSpec } from './types';

/** Every routing policy: what the spec's `routing`, `setRouting` and `sora-series routing` accept. */
export const ROUTING_POLICIES = ['character', 'cost', 'stability'] as const satisfies readonly RoutingPolicy[];

export type ProviderHealth = Record<string, 'up' | 'down'>;

/** A provider found unavailable: when and why. Plain data, carried across continue-as-new. */
export interface OpenCircuit {
  since: number;
  reason: string;
}

/**
 * What routing sees: a provider is down while its circuit is open and the cooldown has not
 * passed; after it, the provider is tried again (half-open) and a new failure reopens it.
 */
export function healthAt(circuits: Record<string, OpenCircuit>, now: number, cooldownMs: number): ProviderHealth {
  const health: ProviderHealth = {};
  for (const [provider, circuit] of Object.entries(circuits)) {
    health[provider] = now - circuit.since < cooldownMs ? 'down' : 'up';
  }
  return health;
}

export interface RoutingInput {
  policy: RoutingPolicy;
  scene: SceneSpec;
  /** Providers the series may use, in the order the spec lists them. */
  profiles: ProviderProfile[];
  health: ProviderHealth;
  passport: CharacterPassport;
}

/**
 * The ordered provider chain for one scene: a pure function of policy, health and
 * capabilities, so it is replay-safe and testable without a server.
 *  - character: providers that can hold the character itself first (relays take any clip);
 *  - cost: cheapest take first;
 *  - stability: the official contract first.
 */
export function routeScene({ policy, scene, profiles, health, passport }: RoutingInput): string[] {
  const usable = profiles.filter((p) => health[p.name] !== 'down' && p.sizes.includes(scene.size));
  if (scene.provider) return usable.some((p) => p.name === scene.provider) ? [scene.provider] : [];

  const keepsCharacter = (p: ProviderProfile) => (p.name in passport.refused ? 0 : 1);
  const isRelay = (p: ProviderProfile) => (p.contract === 'official' ? 0 : 1);
  const price = (p: ProviderProfile) => takePriceUsd(p, scene.seconds, scene.size);
  const order = [...usable].map((p, listed) => ({ p, listed }));
  const by = (...keys: Array<(p: ProviderProfile) => number>) =>
    order.sort((a, b) => {
      for (const key of keys) {
        const d = key(a.p) - key(b.p);
        if (d !== 0) return d;
      }
      return a.listed - b.listed;
    });

  switch (policy) {
    case 'character':
      by(
        (p) => -keepsCharacter(p),
        (p) => -isRelay(p),
      );
      break;
    case 'cost':
      by(price);
      break;
    case 'stability':
      by(isRelay);
      break;
  }
  return order.map(({ p }) => p.name);
}

/** Scenes the series may run at once: bounded by the primary provider's concurrency. */
export function windowSize(chainHead: ProviderProfile | undefined, maxParallel?: number): number {
  const providerBound = chainHead?.maxConcurrency ?? 1;
  return Math.max(1, Math.min(providerBound, maxParallel ?? providerBound));
}
