/**
 * Fault scenarios: what the simulated upstreams do wrong, switchable at runtime for fault drills.
 * The format is nested by contract (and later by endpoint) so new fault kinds slot in without
 * changing existing ones; unknown keys are rejected so a typo in a drill fails loudly.
 */
import { z } from 'zod';
import { ApiError, AuthenticationError, ScenarioError } from './errors';

export const CONTRACTS = ['official', 'relay-v1'] as const;
export type Contract = (typeof CONTRACTS)[number];

/** The contract answers every request with `status` (from the start, or after `afterCalls` calls). */
const downFaultSchema = z.strictObject({
  status: z.union([z.literal(401), z.literal(403), z.literal(404)]),
  afterCalls: z.number().int().nonnegative().optional(),
});

/**
 * Faults of one contract. Planned siblings of `down` (not implemented yet): `latencyMs`,
 * `rateLimit: {status: 429, retryAfterSeconds, everyNthCall}`, `serverErrors: {status, burst}`,
 * `stuckAtProgress`, and `endpoints: {[routeName]: <same faults>}` for per-endpoint overrides.
 */
const contractFaultsSchema = z.strictObject({
  down: downFaultSchema.optional(),
});

export const scenarioSchema = z.strictObject({
  contracts: z
    .strictObject({
      official: contractFaultsSchema.optional(),
      'relay-v1': contractFaultsSchema.optional(),
    })
    .optional(),
  /** Prompts containing this word (case-insensitive) are accepted, then fail with moderation_blocked. */
  rejectWord: z.string().min(1).optional(),
  /** Overrides the simulated generation time for jobs submitted from now on. */
  jobSeconds: z.number().positive().max(86_400).optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type DownFault = z.infer<typeof downFaultSchema>;

export function parseScenario(input: unknown): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new ScenarioError(`invalid scenario: ${details}`);
  }
  return result.data;
}

function zeroCalls(): Record<Contract, number> {
  return { official: 0, 'relay-v1': 0 };
}

/** The active scenario plus what it needs to remember (call counts when it was set). */
export class ScenarioState {
  private scenario: Scenario = {};
  /** `afterCalls` counts from when the scenario was set, so a drill can arm a fault mid-run. */
  private callsAtSet: Record<Contract, number> = zeroCalls();

  current(): Scenario {
    return structuredClone(this.scenario);
  }

  replace(input: unknown, callsNow: Readonly<Record<Contract, number>>): Scenario {
    this.scenario = parseScenario(input);
    this.callsAtSet = { ...callsNow };
    return this.current();
  }

  /** After a reset the call counters restart at zero, and so does the baseline. */
  resetBaseline(): void {
    this.callsAtSet = zeroCalls();
  }

  /** The down fault in force for the `callNumber`-th call (1-based, all time) of `contract`. */
  downFaultFor(contract: Contract, callNumber: number): DownFault | undefined {
    const down = this.scenario.contracts?.[contract]?.down;
    if (!down) return undefined;
    const sinceSet = callNumber - this.callsAtSet[contract];
    return sinceSet > (down.afterCalls ?? 0) ? down : undefined;
  }

  rejects(prompt: string): boolean {
    const word = this.scenario.rejectWord;
    return word !== undefined && prompt.toLowerCase().includes(word.toLowerCase());
  }

  jobSeconds(fallback: number): number {
    return this.scenario.jobSeconds ?? fallback;
  }
}

/** The answer of a contract that is down, in the words real upstreams used (contracts README). */
export function downError(contract: Contract, status: DownFault['status']): ApiError {
  if (status === 401) {
    return contract === 'official'
      ? new AuthenticationError('invalid_api_key', 'Incorrect API key provided. The key was revoked.')
      : new AuthenticationError('token_invalidated', 'Could not parse your authentication token');
  }
  if (status === 403) return new ApiError(403, 'access_denied', 'Access denied: free accounts are blocked.');
  return new ApiError(404, 'route_not_found', 'This route is not available.');
}
