import type { LedgerEntry } from '../../simulator/server';
import type { SeriesResult } from '../../workflows/types';

/**
 * Nothing paid twice, checked against the simulator's ledger: what the upstream billed versus
 * what the series says it did. One definition for the chaos and fault suites.
 */
export interface PaymentAudit {
  /** Ledger entries of this series (by idempotency key prefix). */
  entries: LedgerEntry[];
  billed: LedgerEntry[];
  /** Idempotency keys that appear more than once in the ledger. */
  repeatedKeys: string[];
  /** Takes in the result that have an upstream job. */
  takesWithJob: number;
  /** Billed jobs no take of the result accounts for, plus extra entries per idempotency key. */
  duplicatePayments: number;
  /** Jobs of completed takes that are not exactly once in the ledger. */
  completedJobsNotOnce: string[];
}

/**
 * Compares what the upstream billed with what the series says it did. Idempotency keys are
 * `<scene workflow id>/take-<n>`, so the series' entries are the ones whose key starts with its id.
 */
export function auditPayments(ledger: LedgerEntry[], result: SeriesResult, seriesWorkflowId: string): PaymentAudit {
  const entries = ledger.filter((e) => e.idempotencyKey?.startsWith(`${seriesWorkflowId}/`));
  const billed = entries.filter((e) => e.billedUsd > 0);
  const perKey = new Map<string, number>();
  for (const e of entries) perKey.set(e.idempotencyKey!, (perKey.get(e.idempotencyKey!) ?? 0) + 1);
  const repeatedKeys = [...perKey].filter(([, n]) => n > 1).map(([key]) => key);
  const takes = result.scenes.flatMap((s) => s.takes);
  const takeJobs = new Set(takes.flatMap((t) => (t.jobId ? [t.jobId] : [])));
  const unaccounted = billed.filter((e) => !takeJobs.has(e.jobId)).length;
  const extraPerKey = [...perKey.values()].reduce((sum, n) => sum + (n - 1), 0);
  const completedJobsNotOnce = takes
    .filter((t) => t.outcome === 'completed')
    .flatMap((t) => (entries.filter((e) => e.jobId === t.jobId).length === 1 ? [] : [String(t.jobId)]));
  return {
    entries,
    billed,
    repeatedKeys,
    takesWithJob: takes.filter((t) => t.jobId).length,
    duplicatePayments: unaccounted + extraPerKey,
    completedJobsNotOnce,
  };
}

/** Every take's key billed once, every billed job a recorded take, and the series' cost is what was billed. */
export function expectPaidOncePerTake(
  ledger: LedgerEntry[],
  result: SeriesResult,
  seriesWorkflowId: string,
): PaymentAudit {
  const audit = auditPayments(ledger, result, seriesWorkflowId);
  expect(audit.entries.every((e) => e.idempotencyKey)).toBe(true);
  expect(audit.repeatedKeys).toEqual([]);
  expect(audit.completedJobsNotOnce).toEqual([]);
  // A take whose job failed unbilled (processing_error) has a job but no payment.
  expect(audit.billed.length).toBeLessThanOrEqual(audit.takesWithJob);
  expect(audit.duplicatePayments).toBe(0);
  expect(audit.billed.reduce((sum, e) => sum + e.billedUsd, 0)).toBeCloseTo(result.costUsd, 6);
  return audit;
}
