import { roundUsd, takePriceUsd } from '../../workflows/pricing';
import { unknownProviderProblems, UnknownProviderError } from '../../workflows/provider-rules';
import { routeScene } from '../../workflows/routing';
import type { ProviderProfile, SeriesInput } from '../../workflows/types';

export interface CostEstimate {
  /** What the series costs if every scene succeeds on the provider routing picks first. */
  plannedUsd: number;
  /** If every scene fell back to the dearest provider of its chain. */
  worstCaseUsd: number;
  /** Every scene on one provider, for each provider the spec allows. */
  byProvider: Record<string, { usd: number; scenes: number }>;
  /** Scenes no allowed provider can make (e.g. a size nobody supports). */
  unroutable: number[];
}

/** The estimate printed before anything starts; uses the same routing the workflow will. */
export function estimateCost(input: SeriesInput, available: ProviderProfile[]): CostEstimate {
  const unknown = unknownProviderProblems(
    input.providers,
    available.map((p) => p.name),
  );
  if (unknown.length) throw new UnknownProviderError(unknown);
  const profiles = input.providers.map((name) => available.find((p) => p.name === name)!);
  // Nothing is refused before the series runs: the character's name only labels the passport.
  const passport = { name: input.character?.name ?? '', description: '', refs: {}, refused: {} };

  const byProvider: CostEstimate['byProvider'] = {};
  for (const p of profiles) {
    const fits = input.scenes.filter((s) => p.sizes.includes(s.size));
    byProvider[p.name] = {
      usd: roundUsd(fits.reduce((sum, s) => sum + takePriceUsd(p, s.seconds, s.size), 0)),
      scenes: fits.length,
    };
  }
  let plannedUsd = 0;
  let worstCaseUsd = 0;
  const unroutable: number[] = [];
  for (const scene of input.scenes) {
    const chain = routeScene({ policy: input.routing, scene, profiles, health: {}, passport }).map((name) =>
      profiles.find((p) => p.name === name)!,
    );
    if (chain.length === 0) {
      unroutable.push(scene.index);
      continue;
    }
    const prices = chain.map((p) => takePriceUsd(p, scene.seconds, scene.size));
    plannedUsd += prices[0];
    worstCaseUsd += Math.max(...prices);
  }
  return { plannedUsd: roundUsd(plannedUsd), worstCaseUsd: roundUsd(worstCaseUsd), byProvider, unroutable };
}

export class BudgetBelowEstimateError extends Error {
  constructor(
    readonly budgetUsd: number,
    readonly plannedUsd: number,
  ) {
    super(
      `budgetUsd: $${budgetUsd.toFixed(2)} is below the planned cost $${plannedUsd.toFixed(2)}; raise budgetUsd, drop scenes, or start with --allow-budget-pause (the series pauses when the budget runs out, until raised with \`sora-series budget\`)`,
    );
    this.name = 'BudgetBelowEstimateError';
  }
}

/** Refuses a series whose planned cost is over its budget: known before any money is spent. */
export function checkBudget(input: SeriesInput, estimate: CostEstimate): void {
  if (input.budgetUsd !== undefined && estimate.plannedUsd > input.budgetUsd)
    throw new BudgetBelowEstimateError(input.budgetUsd, estimate.plannedUsd);
}
