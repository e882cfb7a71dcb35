import type { ProviderProfile } from '../../workflows/types';
import { urlPolicyFromEnv, type UrlPolicy } from '../../common/url-policy';
import { capabilityIssues } from './capabilities';
import { formatIssue } from './problems';
import { inputSizeIssues } from './series-input';
import { KNOWN_FIELDS, specSchema, type SeriesSpec } from './spec-schema';

/**
 * A spec value checked before a workflow starts or an upstream is called: the schema
 * (spec-schema.ts), then, given provider profiles, what those providers cannot do (providers that
 * are not configured, sizes and durations no allowed provider renders, extraction where the
 * contract has none), and the size of the workflow input.
 */

export interface SpecOptions {
  /** Which private hosts URLs may name; default from SORA_SERIES_ALLOW_PRIVATE_URLS (none if unset). */
  urlPolicy?: UrlPolicy;
  /** Provider capabilities to check the spec against. parseSpec skips these checks without them; loadSpec uses the client's provider config. */
  profiles?: ProviderProfile[];
}

/** A spec that cannot run; `issues` name each field (`scenes[2].prompt: must not be empty`). */
export class SpecError extends Error {
  constructor(
    readonly issues: string[],
    source?: string,
  ) {
    super(`invalid series spec${source ? ` ${source}` : ''}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'SpecError';
  }
}

export function parseSpec(value: unknown, source?: string, options: SpecOptions = {}): SeriesSpec {
  const policy = options.urlPolicy ?? urlPolicyFromEnv(process.env);
  const parsed = specSchema(policy).safeParse(value, { reportInput: true });
  if (!parsed.success)
    throw new SpecError(
      parsed.error.issues.flatMap((issue) => formatIssue(issue, KNOWN_FIELDS)),
      source,
    );
  const issues = [
    ...(options.profiles ? capabilityIssues(parsed.data, options.profiles) : []),
    ...inputSizeIssues(parsed.data),
  ];
  if (issues.length) throw new SpecError(issues, source);
  return parsed.data;
}
