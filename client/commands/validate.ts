import { estimateCost, type CostEstimate } from '../spec/estimate';
import { clientProviderProfiles } from '../spec/provider-profiles';
import { loadSpec, toSeriesInput } from '../spec/spec';
import type { ProviderProfile, SeriesInput } from '../../workflows/types';

export class UnroutableScenesError extends Error {
  constructor(readonly scenes: number[]) {
    super(
      `scenes ${scenes.join(', ')}: no allowed provider supports their size; change the scene size or add a provider`,
    );
    this.name = 'UnroutableScenesError';
  }
}

/** The estimate of a parsed series; scenes no allowed provider can make refuse it. One check for files and requests. */
export function plannedEstimate(input: SeriesInput, profiles: ProviderProfile[]): CostEstimate {
  const estimate = estimateCost(input, profiles);
  if (estimate.unroutable.length) throw new UnroutableScenesError(estimate.unroutable);
  return estimate;
}

/** Everything checked before a series may start: the spec, its providers, its cost. */
export async function validateSpecFile(
  file: string,
): Promise<{ input: SeriesInput; estimate: CostEstimate; pricesFrom: string; profiles: ProviderProfile[] }> {
  const { profiles, source } = clientProviderProfiles();
  const input = toSeriesInput(await loadSpec(file, { profiles }));
  return { input, estimate: plannedEstimate(input, profiles), pricesFrom: source, profiles };
}

export function formatEstimate(input: SeriesInput, estimate: CostEstimate, pricesFrom: string): string {
  const lines = [
    `spec ok: series "${input.name}", ${input.scenes.length} scenes, character ${input.character.name} (${input.character.source.kind}), ${input.routing} routing`,
    `cost estimate (prices from ${pricesFrom}):`,
    `  planned (${input.routing} routing, first choice per scene): $${estimate.plannedUsd.toFixed(2)}`,
    `  worst case (every scene on the dearest provider of its chain): $${estimate.worstCaseUsd.toFixed(2)}`,
    ...Object.entries(estimate.byProvider).map(
      ([name, e]) => `  all on ${name}: $${e.usd.toFixed(2)} (${e.scenes} scenes)`,
    ),
  ];
  if (input.budgetUsd !== undefined) {
    const covers =
      estimate.plannedUsd <= input.budgetUsd
        ? 'covers the planned cost'
        : 'is BELOW the planned cost: start refuses it without --allow-budget-pause';
    lines.push(
      `  budget: $${input.budgetUsd.toFixed(2)} ${covers}; takes are reserved at submit and the series pauses before overspending`,
    );
  }
  return lines.join('\n');
}
