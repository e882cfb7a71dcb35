import { urlPolicyFromEnv } from '../../common/url-policy';
import type { ProviderProfile, SeriesInput } from '../../workflows/types';
import { checkBudget, estimateCost, type CostEstimate } from './estimate';
import { clientProviderProfiles } from './provider-profiles';
import { loadSpec } from './load-spec';
import { parseSpec } from './parse-spec';
import { toSeriesInput } from './series-input';

/**
 * Everything checked before a series may start, in one place for the CLI (`validate`, `start`,
 * `append`), the gateway and the library: the spec, its providers, its cost and, on request, its
 * budget. A file and an object are checked alike.
 */

export class UnroutableScenesError extends Error {
  constructor(readonly scenes: number[]) {
    super(
      `scenes ${scenes.join(', ')}: no allowed provider supports their size; change the scene size or add a provider`,
    );
    this.name = 'UnroutableScenesError';
  }
}

/** The estimate of a parsed series; scenes no allowed provider can make refuse it. */
export function plannedEstimate(input: SeriesInput, profiles: ProviderProfile[]): CostEstimate {
  const estimate = estimateCost(input, profiles);
  if (estimate.unroutable.length) throw new UnroutableScenesError(estimate.unroutable);
  return estimate;
}

export interface ValidateOptions {
  /** Provider capabilities to check against; default: the client's provider config read from `env`. */
  profiles?: ProviderProfile[];
  /** Provider config and SORA_SERIES_ALLOW_PRIVATE_URLS come from here (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Refuse a budget below the planned cost, as `start` does unless pausing on the budget is allowed. */
  checkBudget?: boolean;
  /** Names the spec in a SpecError ("in the request body"); a file names itself. */
  source?: string;
}

export interface ValidatedSpec {
  input: SeriesInput;
  estimate: CostEstimate;
  /** Where the prices of the estimate come from (the provider config file, or the simulator default). */
  pricesFrom: string;
  profiles: ProviderProfile[];
}

export function validateSpec(value: unknown, options: ValidateOptions = {}): ValidatedSpec {
  const { profiles, source } = profilesOf(options);
  const urlPolicy = urlPolicyFromEnv(options.env ?? process.env);
  return checked(toSeriesInput(parseSpec(value, options.source, { profiles, urlPolicy })), profiles, source, options);
}

export async function validateSpecFile(file: string, options: ValidateOptions = {}): Promise<ValidatedSpec> {
  const { profiles, source } = profilesOf(options);
  const urlPolicy = urlPolicyFromEnv(options.env ?? process.env);
  return checked(toSeriesInput(await loadSpec(file, { profiles, urlPolicy })), profiles, source, options);
}

function profilesOf(options: ValidateOptions): { profiles: ProviderProfile[]; source: string } {
  return options.profiles
    ? { profiles: options.profiles, source: 'the given provider profiles' }
    : clientProviderProfiles(options.env);
}

function checked(
  input: SeriesInput,
  profiles: ProviderProfile[],
  pricesFrom: string,
  options: ValidateOptions,
): ValidatedSpec {
  const estimate = plannedEstimate(input, profiles);
  if (options.checkBudget) checkBudget(input, estimate);
  return { input, estimate, pricesFrom, profiles };
}
