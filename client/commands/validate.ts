import type { CostEstimate } from '../spec/estimate';
import type { SeriesInput } from '../../workflows/types';

/** What `sora-series validate` prints (the checks are client/spec/validate.ts). */

export function formatEstimate(input: SeriesInput, estimate: CostEstimate, pricesFrom: string): string {
  const lines = [
    `spec ok: series "${input.name}", ${input.scenes.length} scenes, ${input.character ? `character ${input.character.name} (${input.character.source.kind})` : `characters ${(input.cast ?? []).map((c) => c.name).join(', ')} (library)`}, ${input.routing} routing`,
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
