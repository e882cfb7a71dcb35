import { log, patched } from '@temporalio/workflow';
import { maxCharactersOf } from '../cast-rules';
import { takePriceUsd } from '../pricing';
import { healthAt, routeScene, windowSize, type ProviderHealth } from '../routing';
import { mentionsOf } from '../scene-rules';
import type { CharacterPassport, SceneSpec, SeriesInput } from '../types';
import type { SeriesRun, Work } from './state';

const DEFAULT_CIRCUIT_COOLDOWN_SECONDS = 600;

/** How long a provider found unavailable is left alone. */
export function circuitCooldownMs(input: SeriesInput): number {
  // Before the cooldown existed a down provider stayed down for the series; keep that on replay.
  return patched('circuit-cooldown')
    ? (input.circuitCooldownSeconds ?? DEFAULT_CIRCUIT_COOLDOWN_SECONDS) * 1000
    : Infinity;
}

/** Where scenes go: the routing policy over the providers' circuits, and what a take costs there. */
export class Routes {
  constructor(
    private readonly run: SeriesRun,
    private readonly cooldownMs: number,
  ) {}

  openCircuit(provider: string, reason: string): void {
    const { circuits } = this.run.state;
    const reopened = provider in circuits;
    circuits[provider] = { since: Date.now(), reason };
    log.warn(reopened ? 'provider still unavailable: circuit reopened' : 'provider unavailable: circuit opened', {
      provider,
      reason,
    });
  }

  health(): ProviderHealth {
    return healthAt(this.run.state.circuits, Date.now(), this.cooldownMs);
  }

  /** The scene's provider chain, head first. */
  route(scene: SceneSpec): string[] {
    const { series, state } = this.run;
    return routeScene({
      policy: series.routing,
      scene,
      profiles: state.profiles,
      health: this.health(),
      passport: series.cast ? this.castPassport(scene) : state.passport,
    });
  }

  /** For routing a cast's scene: a provider counts as refusing when it refuses any character the scene names. */
  private castPassport(scene: SceneSpec): CharacterPassport {
    const named = mentionsOf(scene.prompt);
    const refused: Record<string, string> = {};
    for (const passport of Object.values(this.run.state.cast ?? {}))
      if (named.includes(passport.name)) Object.assign(refused, passport.refused);
    return { name: '', description: '', refs: {}, refused };
  }

  priceOn(provider: string | undefined, scene: SceneSpec): number {
    const profile = this.run.state.profiles.find((p) => p.name === provider);
    return profile ? takePriceUsd(profile, scene.seconds, scene.size) : 0;
  }

  /** The most characters one take on `provider` holds. */
  characterLimitOn(provider: string): number {
    const profile = this.run.state.profiles.find((p) => p.name === provider);
    return profile ? maxCharactersOf(profile) : 1;
  }

  /** Scenes that may run at once: the next scene's head provider's concurrency, within maxParallel. */
  window(): number {
    const work = this.run.peekWork();
    const head = work ? this.run.state.profiles.find((p) => p.name === this.route(work.scene)[0]) : undefined;
    return windowSize(head, this.run.series.maxParallel);
  }

  /** What the scene's first take costs on its head provider: what starting it holds. */
  headPrice(work: Work): number {
    return this.priceOn(this.route(work.scene)[0], work.scene);
  }
}
