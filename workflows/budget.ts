import { roundUsd } from './pricing';
import type { BudgetView } from './messages';

/**
 * The series' money, as plain data carried across continue-as-new: settled spend comes from
 * finished scenes; each scene in flight holds what it spent so far plus its current take's price.
 */
export interface Ledger {
  budgetUsd?: number;
  spentUsd: number;
  /** Possibly paid by finished scenes' uncertain submissions: counted as spent, so they never overspend. */
  uncertainUsd?: number;
  /** scene index -> held amount */
  held: Record<number, number>;
}

export function heldUsd(ledger: Ledger, except?: number): number {
  return roundUsd(
    Object.entries(ledger.held).reduce((sum, [index, usd]) => (Number(index) === except ? sum : sum + usd), 0),
  );
}

/** Whether holding `usd` for scene `index` (replacing what it holds) stays within the budget. */
export function fits(ledger: Ledger, index: number, usd: number): boolean {
  return (
    ledger.budgetUsd === undefined ||
    roundUsd(ledger.spentUsd + (ledger.uncertainUsd ?? 0) + heldUsd(ledger, index) + usd) <= ledger.budgetUsd
  );
}

export function budgetView(ledger: Ledger): BudgetView {
  const reservedUsd = heldUsd(ledger);
  const uncertainUsd = ledger.uncertainUsd ?? 0;
  return {
    ...(ledger.budgetUsd !== undefined
      ? {
          budgetUsd: ledger.budgetUsd,
          remainingUsd: roundUsd(ledger.budgetUsd - ledger.spentUsd - uncertainUsd - reservedUsd),
        }
      : {}),
    spentUsd: roundUsd(ledger.spentUsd),
    reservedUsd,
    ...(uncertainUsd ? { uncertainUsd } : {}),
  };
}
