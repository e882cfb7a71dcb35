import { roundUsd } from './pricing';
import type { BudgetView } from './messages';

/**
 * The series' money, as plain data carried across continue-as-new: settled spend comes from
 * finished scenes; each scene in flight holds what it spent so far plus its current take's price.
 */
export interface Ledger {
  budgetUsd?: number;
  spentUsd: number;
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
  return ledger.budgetUsd === undefined || roundUsd(ledger.spentUsd + heldUsd(ledger, index) + usd) <= ledger.budgetUsd;
}

export function budgetView(ledger: Ledger): BudgetView {
  const reservedUsd = heldUsd(ledger);
  return {
    ...(ledger.budgetUsd !== undefined
      ? { budgetUsd: ledger.budgetUsd, remainingUsd: roundUsd(ledger.budgetUsd - ledger.spentUsd - reservedUsd) }
      : {}),
    spentUsd: roundUsd(ledger.spentUsd),
    reservedUsd,
  };
}
