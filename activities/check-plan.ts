/**
 * When to check a job's status next. Checks are retries of one short activity (job-collect.ts),
 * so this delay is all a waiting job costs: no worker slot and no memory in between. The plan
 * aims the first check near the provider's expected job length, then follows the job's own
 * progress rate, so a check lands just after the job ends whatever its length, and backs off
 * (bounded) when there is nothing to go on.
 */

/** One status check of a job, as the attempts of the check activity pass it on (heartbeat details). */
export interface CheckSample {
  /** Since the wait began (the check activity was first scheduled). */
  elapsedMs: number;
  /** 0-100 as the upstream reported it; 0 also when a contract reports none. */
  progress: number;
}

export interface CheckPlanInput {
  elapsedMs: number;
  /** The provider profile's expected job length. */
  expectedMs: number;
  /** The shortest wait between two checks (SORA_SERIES_POLL_MS). */
  minMs: number;
  /** The provider's webhooks reach the gateway: checks are only the safety net. */
  webhooks: boolean;
  /** This check's result; absent when no check was made yet. */
  now?: CheckSample;
  /** The check before it, for the progress rate. */
  previous?: CheckSample;
}

/** Before the expected end, a first check this early catches the faster jobs of a spread. */
export const FIRST_CHECK_FRACTION = 0.8;
/** With webhooks, the first check only makes sure a lost webhook does not leave the job waiting. */
export const WEBHOOK_FIRST_CHECK_FRACTION = 1.5;
/** Aim this far past the estimated end (of the estimated length), so the check finds the job done. */
const MARGIN_FRACTION = 0.01;
/** Without a progress rate: the next check after this share of the time waited so far. */
const BACKOFF_FRACTION = 0.2;
/**
 * No single wait is longer than this share of max(waited, expected), so a wrong estimate costs
 * little: a measured rate may double the time waited, a guess only add a quarter (or half).
 */
const CAP = { rate: 1, oneSample: 0.5, guess: 0.25, webhooks: 1 };

/** Milliseconds until the next check; 0: check now. */
export function nextCheckDelayMs(input: CheckPlanInput): number {
  const { elapsedMs: t, expectedMs: e, minMs, webhooks, now, previous } = input;
  if (!now) {
    const first = e * (webhooks ? WEBHOOK_FIRST_CHECK_FRACTION : FIRST_CHECK_FRACTION);
    return first - t < minMs / 2 ? 0 : first - t;
  }
  let delay: number;
  let cap: number;
  if (webhooks) [delay, cap] = [Math.max(e, t) * 0.5, CAP.webhooks];
  else if (
    previous &&
    previous.progress > 0 &&
    now.progress > previous.progress &&
    now.elapsedMs > previous.elapsedMs
  ) {
    const rate = (now.progress - previous.progress) / (now.elapsedMs - previous.elapsedMs);
    const remaining = (100 - now.progress) / rate;
    [delay, cap] = [remaining + MARGIN_FRACTION * (t + remaining), CAP.rate];
  } else if (now.progress > 0) {
    // One sample overestimates (the time queued counts as rendering): go half way, then measure the rate.
    [delay, cap] = [(t * (100 - now.progress)) / now.progress / 2, CAP.oneSample];
  } else [delay, cap] = [t < e ? e - t : BACKOFF_FRACTION * t, CAP.guess];
  return Math.round(Math.max(minMs, Math.min(delay, cap * Math.max(t, e))));
}
