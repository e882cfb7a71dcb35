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

export function kindOfFailureType(type: string | undefined | null): ErrorKind | undefined {
  return (Object.keys(failureTypeOf) as ErrorKind[]).find((k) => failureTypeOf[k] === type);
}

/**
 * The `code` in a provider failure's details when the provider's handle on a character is gone
 * (revoked, deleted): the character can be made again there, unlike an outage.
 */
export const CHARACTER_REVOKED = 'character_revoked';
