import type { ErrorKind } from './types';

/**
 * `ApplicationFailure.type` per error kind: activities throw them, workflows route on them.
 * They live here (pure) so workflow code can match them without importing activity code.
 */
export const failureTypeOf: Record<ErrorKind, string> = {
  transient: 'ProviderTransient',
  rate_limited: 'ProviderRateLimited',
  unavailable: 'ProviderUnavailable',
  rejected: 'ContentRejected',
  invalid: 'InvalidRequest',
};

/** The upstream job ended failed for a reason that is not the content (e.g. heavy load): make a new take. */
export const JOB_FAILED = 'JobFailed';

/**
 * The `code` in a provider failure's details when the provider's handle on a character is gone
 * (revoked, deleted): the character can be made again there, unlike an outage.
 */
export const CHARACTER_REVOKED = 'character_revoked';
/** The reference files a referenced handle is made of are gone from the provider's storage (fal). */
export const CHARACTER_REFERENCE_GONE = 'character_reference_gone';

/**
 * Codes (activities/providers/errors.ts) with which a provider says a character's handle is no more:
 * revoked by its owner, or gone with its source. A library character's handle is then made again.
 */
export const CHARACTER_REVOKED_CODES: readonly string[] = [
  'cameo_permission_denied',
  'cameo_not_found',
  'character_not_found',
  CHARACTER_REVOKED,
  CHARACTER_REFERENCE_GONE,
];

export function kindOfFailureType(type: string | undefined | null): ErrorKind | undefined {
  return (Object.keys(failureTypeOf) as ErrorKind[]).find((k) => failureTypeOf[k] === type);
}

/** A status check found the job still running: benign, the server retries the check (activities/job-collect.ts). */
export const JOB_NOT_READY = 'JobNotReady';
/** The job ran past the scene's deadline: given up like a stuck job. */
export const JOB_OVERDUE = 'JobOverdue';
/** The job finished but its video could not be stored (gone, or invalid every time): a new take. */
export const STORE_FAILED = 'StoreFailed';
