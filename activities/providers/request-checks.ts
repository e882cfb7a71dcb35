/**
 * What every adapter checks before a take is sent, so a take a provider cannot make is refused
 * for free (kind `invalid`, code `unsupported_request`) in the same words on every contract.
 */
import type { ProviderProfile } from '../../workflows/types';
import { ProviderError } from './errors';

/** Why the provider cannot take this duration or size, if it cannot. */
export function unsupportedReason(
  profile: Pick<ProviderProfile, 'seconds' | 'sizes'>,
  request: { seconds: number; size: string },
): string | undefined {
  if (!profile.seconds.includes(request.seconds)) {
    return `duration ${request.seconds}s is not one of ${profile.seconds.join(', ')} (fit it with fitSeconds)`;
  }
  if (!profile.sizes.includes(request.size)) return `size ${request.size} is not one of ${profile.sizes.join(', ')}`;
  return undefined;
}

/** The profile's price is the configured model's: another model would be billed differently. */
export function otherModelReason(requested: string | undefined, configured: string): string | undefined {
  return requested && requested !== configured
    ? `model ${requested} requested, but this provider is configured (and priced) for ${configured}`
    : undefined;
}

/** Throws the first of `problems` (undefined: no problem) as an unsupported request. */
export function refuseUnsupported(provider: string, problems: ReadonlyArray<string | undefined>): void {
  const problem = problems.find((p) => p !== undefined);
  if (problem)
    throw new ProviderError({
      kind: 'invalid',
      code: 'unsupported_request',
      provider,
      message: `${provider}: ${problem}`,
    });
}
