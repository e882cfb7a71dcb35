/**
 * Per-call fault decisions: given the active scenario, what happens to this call to this endpoint.
 * Every counted fault counts the calls in its own scope (the contract, or one endpoint when set
 * there) from when the scenario was set, whether or not an earlier fault already answered the call,
 * so "`burst: 2`" always means the next two calls. Overlapping faults are resolved in the order of
 * `CallPlan` (see README.md "Order of evaluation").
 */
import { ApiError, AuthenticationError } from './errors';
import { falDownError, falModerationError } from './fal-errors';
import type { JobOutcome, JobStuck } from './jobs';
import type { SeededRandom } from './prng';
import {
  MEDIA_ENDPOINTS,
  SUBMISSION_ENDPOINTS,
  type Cadence,
  type Contract,
  type DownFault,
  type FaultKind,
  type MediaDamage,
  type ScenarioState,
} from './scenario';

/** The header naming the injected fault on answers it produced (a debugging aid for drills). */
export const FAULT_HEADER = 'x-simulator-fault';

export type TransportFault = { kind: 'reset' } | { kind: 'hang'; ms: number };
export type Corruption = 'malformed' | 'contractBreak';

export interface CallTarget {
  contract: Contract;
  endpoint: string;
  /** False for relay files: only faults set on that endpoint itself apply. */
  inherit: boolean;
}

/** What the scenario does to one call, in the order the gateway applies it. */
export interface CallPlan {
  latencyMs: number;
  down?: ApiError;
  /** Reset / hang before the request is handled. */
  transportBefore?: TransportFault;
  /** 429 rate limit or 5xx, before the key is checked (as a proxy in front of the upstream answers). */
  refusal?: ApiError;
  /** After the key check, before the body is looked at: submissions only. */
  sentinel?: ApiError;
  /** Reset / hang once the request took effect (a job accepted, then the answer lost). */
  transportAfter?: TransportFault;
  /** Applied to a 2xx answer only. */
  corruption?: Corruption;
  /** Applied to a 2xx media answer only (after `corruption`). */
  media?: MediaDamage;
  /** A submission taken (and billed), then answered with this error instead (`errorAfterAccept`). */
  errorAfter?: ApiError;
}

/** Does a counted fault fire on the `n`-th call (1-based) of its scope? */
export function fires(cadence: Cadence, n: number): boolean {
  const { burst, every } = cadence;
  if (burst !== undefined && every !== undefined) return (n - 1) % every < burst;
  if (burst !== undefined) return n <= burst;
  if (every !== undefined) return n % every === 0;
  return true;
}

function withFaultHeader(error: ApiError, kind: string, headers: Record<string, string> = {}): ApiError {
  return new ApiError(error.status, error.code, error.message, error.param, error.type, {
    ...error.headers,
    ...headers,
    [FAULT_HEADER]: kind,
  });
}

/** The answer of a contract that is down, in the words real upstreams used (contracts README). */
export function downError(contract: Contract, status: DownFault['status']): ApiError {
  if (contract === 'fal') return falDownError(status);
  if (status === 401) {
    return contract === 'official'
      ? new AuthenticationError('invalid_api_key', 'Incorrect API key provided. The key was revoked.')
      : new AuthenticationError('token_invalidated', 'Could not parse your authentication token');
  }
  if (status === 403) return new ApiError(403, 'access_denied', 'Access denied: free accounts are blocked.');
  return new ApiError(404, 'route_not_found', 'This route is not available.');
}

const SERVER_ERRORS: Record<500 | 502 | 503, [string, string]> = {
  500: ['internal_error', 'The server had an error while processing your request.'],
  502: ['bad_gateway', 'Bad gateway: the upstream did not answer.'],
  503: ['service_unavailable', "We're under heavy load, please try again later."],
};

const retryAfter = (seconds: number | undefined): Record<string, string> =>
  seconds === undefined ? {} : { 'retry-after': String(seconds) };

export class FaultPlanner {
  constructor(
    private readonly scenario: ScenarioState,
    private readonly latencyRandom: () => SeededRandom,
  ) {}

  /** Decide everything about one call; advances the counters of every fault in scope. */
  planCall(target: CallTarget, nowMs: number): CallPlan {
    const { contract, endpoint, inherit } = target;
    const get = <K extends FaultKind>(kind: K) => this.scenario.fault(contract, endpoint, kind, inherit);
    const counted = <
      K extends 'rateLimit' | 'serverErrors' | 'reset' | 'hang' | 'malformed' | 'contractBreak' | 'sentinelBlock',
    >(
      kind: K,
    ) => {
      const fault = get(kind);
      if (!fault) return undefined;
      return fires(fault.value, this.scenario.tick(`${fault.scope}:${kind}`)) ? fault.value : undefined;
    };
    const plan: CallPlan = { latencyMs: 0 };

    const latency = get('latencyMs')?.value;
    if (latency)
      plan.latencyMs = latency.min + Math.floor(this.latencyRandom().next() * (latency.max - latency.min + 1));

    const down = get('down');
    if (down && this.downNow(down.value, this.scenario.tick(`${down.scope}:down`), nowMs)) {
      plan.down = withFaultHeader(downError(contract, down.value.status), 'down');
    }

    const reset = counted('reset');
    const hang = counted('hang');
    const transports: Array<[TransportFault, boolean]> = [];
    if (reset) transports.push([{ kind: 'reset' }, reset.afterHandling === true]);
    if (hang) transports.push([{ kind: 'hang', ms: hang.ms }, hang.afterHandling === true]);
    plan.transportBefore = transports.find(([, after]) => !after)?.[0];
    plan.transportAfter = transports.find(([, after]) => after)?.[0];

    const rateLimit = counted('rateLimit');
    const serverErrors = counted('serverErrors');
    if (rateLimit) {
      const error = new ApiError(
        429,
        'rate_limit_exceeded',
        'Rate limit reached for requests. Please try again later.',
      );
      plan.refusal = withFaultHeader(error, 'rateLimit', retryAfter(rateLimit.retryAfterSeconds));
    } else if (serverErrors) {
      const [code, message] = SERVER_ERRORS[serverErrors.status];
      plan.refusal = withFaultHeader(
        new ApiError(serverErrors.status, code, message),
        'serverErrors',
        retryAfter(serverErrors.retryAfterSeconds),
      );
    }

    if (SUBMISSION_ENDPOINTS[contract].includes(endpoint) && counted('sentinelBlock')) {
      const error = new ApiError(
        400,
        'sentinel_block',
        'Request blocked by anti-bot protection (sentinel), please retry later.',
      );
      // fal moderates at submit with a 422 from its content checker instead
      plan.sentinel = withFaultHeader(contract === 'fal' ? falModerationError() : error, 'sentinelBlock');
    }
    const errorAfter = SUBMISSION_ENDPOINTS[contract].includes(endpoint) ? get('errorAfterAccept') : undefined;
    if (errorAfter && fires(errorAfter.value, this.scenario.tick(`${errorAfter.scope}:errorAfterAccept`))) {
      const [code, message] = SERVER_ERRORS[errorAfter.value.status === 504 ? 503 : errorAfter.value.status];
      plan.errorAfter = withFaultHeader(
        errorAfter.value.status === 504
          ? new ApiError(504, 'request_timeout', 'Request timed out')
          : new ApiError(errorAfter.value.status, code, message),
        'errorAfterAccept',
      );
    }

    const malformed = counted('malformed');
    const contractBreak = counted('contractBreak');
    plan.corruption = malformed ? 'malformed' : contractBreak ? 'contractBreak' : undefined;

    // Set on the contract, `media` reaches the relay's file endpoint too: it is about files.
    const media = MEDIA_ENDPOINTS[contract].includes(endpoint)
      ? this.scenario.fault(contract, endpoint, 'media')
      : undefined;
    if (media && fires(media.value, this.scenario.tick(`${media.scope}:media`))) plan.media = media.value.kind;
    return plan;
  }

  /** Down once all given thresholds are passed: calls since set, clock time, seconds since set. */
  private downNow(down: DownFault, callsSinceSet: number, nowMs: number): boolean {
    if (down.afterCalls !== undefined && callsSinceSet <= down.afterCalls) return false;
    if (down.atMs !== undefined && nowMs < down.atMs) return false;
    if (down.afterSeconds !== undefined && nowMs < this.scenario.baselineMs() + down.afterSeconds * 1000) return false;
    return true;
  }

  /** `ignoreIdempotencyKeys`: a repeated key creates (and bills) a new job. */
  ignoresIdempotencyKeys(contract: Contract, endpoint: string): boolean {
    return this.scenario.fault(contract, endpoint, 'ignoreIdempotencyKeys')?.value === true;
  }

  /** 429 `concurrency_limit` when `activeJobs` (queued or running) already reach the limit. */
  concurrencyRefusal(contract: Contract, endpoint: string, activeJobs: () => number): ApiError | undefined {
    const limit = this.scenario.fault(contract, endpoint, 'maxConcurrentJobs')?.value;
    if (limit === undefined || activeJobs() < limit) return undefined;
    const error = new ApiError(
      429,
      'concurrency_limit',
      `Too many concurrent tasks: at most ${limit} may be queued or running.`,
    );
    return withFaultHeader(error, 'maxConcurrentJobs');
  }

  /** 403 `cameo_permission_denied` when a referenced character is revoked. */
  revokedCharacterError(contract: Contract, endpoint: string, characterIds: readonly string[]): ApiError | undefined {
    const all = this.scenario.fault(contract, endpoint, 'revokeAllCharacters')?.value === true;
    const revoked = new Set(this.scenario.fault(contract, endpoint, 'revokedCharacters')?.value ?? []);
    const hit = characterIds.find((id) => all || revoked.has(id));
    if (hit === undefined) return undefined;
    const error = new ApiError(
      403,
      'cameo_permission_denied',
      `The owner of character ${hit} has revoked permission to use it.`,
      'characters',
    );
    return withFaultHeader(error, 'revokedCharacters');
  }

  /** How a job accepted now will end: `rejectWord` first, then `failJobs`; `stuck` separately. */
  jobFate(contract: Contract, endpoint: string, prompt: string): { outcome: JobOutcome; stuck?: JobStuck } {
    const matches = (word: string | undefined) =>
      word === undefined || prompt.toLowerCase().includes(word.toLowerCase());
    let outcome: JobOutcome = this.scenario.rejects(prompt) ? 'moderation_blocked' : 'succeed';
    const failJobs = this.scenario.fault(contract, endpoint, 'failJobs');
    if (failJobs && matches(failJobs.value.matchWord)) {
      const n = this.scenario.tick(`${failJobs.scope}:failJobs`);
      if (outcome === 'succeed' && fires(failJobs.value, n)) outcome = failJobs.value.code;
    }
    const stuck = this.scenario.fault(contract, endpoint, 'stuck')?.value;
    return stuck && matches(stuck.matchWord) ? { outcome, stuck: stuck.at } : { outcome };
  }

  /** `balanceExhausted`: 429 `insufficient_balance`, nothing created (counted per call in scope). */
  balanceRefusal(contract: Contract, endpoint: string): ApiError | undefined {
    const fault = this.scenario.fault(contract, endpoint, 'balanceExhausted');
    if (!fault || !fires(fault.value, this.scenario.tick(`${fault.scope}:balanceExhausted`))) return undefined;
    return withFaultHeader(new ApiError(429, 'insufficient_balance', 'Account balance not enough'), 'balanceExhausted');
  }

  /** `submitModeration`: 400 `moderation_blocked` at once for a matching submission (`text`: its prompt). */
  submitModerationError(contract: Contract, endpoint: string, text: string): ApiError | undefined {
    const fault = this.scenario.fault(contract, endpoint, 'submitModeration');
    if (!fault) return undefined;
    const word = fault.value.matchWord;
    if (word !== undefined && !text.toLowerCase().includes(word.toLowerCase())) return undefined;
    if (!fires(fault.value, this.scenario.tick(`${fault.scope}:submitModeration`))) return undefined;
    const error = new ApiError(400, 'moderation_blocked', 'The input failed the content-safety review.');
    return withFaultHeader(error, 'submitModeration');
  }
}
