/**
 * The one rule for provider names: a series may name only providers that the provider config it
 * is checked against has. The spec and the estimate check against the client's config, the series
 * against the worker's profiles, each activity against the worker's providers; all say it the same way.
 */

/** Env var holding the path of the providers file (JSON or YAML) that client and worker read. */
export const PROVIDERS_FILE_ENV = 'SORA_SERIES_PROVIDERS';

/** The providers a spec that names none may use, in order: the dev stack's live chain. */
export const DEFAULT_PROVIDER_CHAIN = ['kling', 'fal', 'seedance', 'official'] as const;

/** Why `name` cannot be used here (`problem; fix`), or undefined when `configured` has it. */
export function unknownProviderProblem(name: string, configured: readonly string[]): string | undefined {
  if (configured.includes(name)) return undefined;
  return `"${name}" is not configured (configured: ${configured.join(', ') || 'none'}); remove it or add it to the provider config (${PROVIDERS_FILE_ENV})`;
}

/** One `providers[i]: ...` line for each listed provider the config lacks. */
export function unknownProviderProblems(listed: readonly string[], configured: readonly string[]): string[] {
  return listed.flatMap((name, i) => {
    const problem = unknownProviderProblem(name, configured);
    return problem ? [`providers[${i}]: ${problem}`] : [];
  });
}

/** A provider name the config lacks; `problems` names each one and the fix. */
export class UnknownProviderError extends Error {
  override name = 'UnknownProviderError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}
