import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { roundUsd } from './pricing';
import type { SceneResult, TakeRecord, UncertainSubmission } from './types';

/**
 * Uncertain submissions, counted the one way status, watch, the gateway and the manifest all
 * report them: takes on contracts without an idempotency key whose submit may have been billed
 * (again) without a job to show for it. Their price is what the series may have paid beyond its cost.
 */
export interface UncertainCount {
  count: number;
  /** What they may have cost, beyond `costUsd`. */
  usd: number;
}

export const NO_UNCERTAIN: UncertainCount = { count: 0, usd: 0 };

export function uncertainOfTakes(takes: readonly TakeRecord[]): UncertainCount {
  const uncertain = takes.flatMap((t) => (t.uncertain ? [t.uncertain.usd] : []));
  return { count: uncertain.length, usd: roundUsd(uncertain.reduce((sum, usd) => sum + usd, 0)) };
}

export function uncertainOfScenes(scenes: readonly Pick<SceneResult, 'takes'>[]): UncertainCount {
  return addUncertain(...scenes.map((s) => uncertainOfTakes(s.takes)));
}

export function addUncertain(...counts: UncertainCount[]): UncertainCount {
  return counts.reduce((a, b) => ({ count: a.count + b.count, usd: roundUsd(a.usd + b.usd) }), NO_UNCERTAIN);
}

/**
 * A failed submit the upstream may still have accepted: the adapter marked its failure
 * `uncertainSubmission` (errors.ts toApplicationFailure), so the take is counted as possibly paid.
 */
export function uncertainSubmissionOf(err: unknown): UncertainSubmission | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const details = cause.details?.[0] as { uncertainSubmission?: unknown } | undefined;
  return details?.uncertainSubmission === true ? { code: 'answer_lost', message: cause.message } : undefined;
}
