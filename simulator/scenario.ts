/**
 * Fault scenarios: what the simulated upstreams do wrong, switchable at runtime for fault drills.
 * One fault shape (`FaultSet`) is used per contract and per endpoint of a contract, so a drill can
 * say "the relay is slow" or "only the relay's `task` endpoint is slow" the same way. Unknown keys
 * (and unknown endpoint names) are rejected so a typo in a drill fails loudly. How the faults act
 * on calls is in `faults.ts`; the format is documented in README.md.
 */
import { z } from 'zod';
import { ScenarioError } from './errors';

export const CONTRACTS = ['official', 'relay-v1', 'fal', 'seedance', 'kling'] as const;
export type Contract = (typeof CONTRACTS)[number];

/** Endpoint names for per-endpoint overrides and for `callsByEndpoint`. */
export const ENDPOINTS = {
  official: ['create', 'retrieve', 'list', 'content', 'createCharacter', 'getCharacter', 'remix', 'delete'],
  'relay-v1': ['createCharacter', 'extractCharacter', 'listCharacters', 'generate', 'task', 'file'],
  fal: ['submit', 'status', 'result', 'cancel', 'requests', 'uploadInitiate', 'upload', 'file'],
  seedance: ['create', 'query', 'list', 'cancel', 'video'],
  kling: [
    'create',
    'queryTasks',
    'listTasks',
    'legacyTask',
    'createElement',
    'getElement',
    'listElements',
    'deleteElement',
    'file',
  ],
} as const satisfies Record<Contract, readonly string[]>;
export type EndpointName = (typeof ENDPOINTS)[Contract][number];

/** Endpoints that serve a job's media (video or images): the `media` fault acts there only. */
export const MEDIA_ENDPOINTS: Readonly<Record<Contract, readonly string[]>> = {
  official: ['content'],
  'relay-v1': ['file'],
  fal: ['file'],
  seedance: ['video'],
  kling: ['file'],
};

/** Endpoints that accept a generation job: the job-level faults act there only. */
export const SUBMISSION_ENDPOINTS: Readonly<Record<Contract, readonly string[]>> = {
  official: ['create', 'remix'],
  'relay-v1': ['generate'],
  fal: ['submit'],
  seedance: ['create'],
  kling: ['create'],
};

const MAX_DELAY_MS = 600_000;
const positiveInt = z.number().int().positive();

/**
 * When a counted fault fires, counting the calls in its scope since the scenario was set (1-based):
 * `burst` alone: calls 1..burst; `every` alone: calls every, 2·every, ...; both: the first `burst`
 * calls of each window of `every` calls; neither: every call.
 */
const cadence = { burst: positiveInt.optional(), every: positiveInt.optional() };
const cadenceSchema = z.strictObject(cadence);

const faultSetShape = {
  /** Extra delay before answering, drawn uniformly from [min, max] with a seeded stream. */
  latencyMs: z
    .strictObject({
      min: z.number().int().nonnegative().max(MAX_DELAY_MS),
      max: z.number().int().nonnegative().max(MAX_DELAY_MS),
    })
    .refine((v) => v.min <= v.max, { message: 'min must be <= max' })
    .optional(),
  /** 429 `rate_limit_exceeded` with `Retry-After: retryAfterSeconds`. */
  rateLimit: z.strictObject({ retryAfterSeconds: z.number().int().nonnegative(), ...cadence }).optional(),
  /** Submissions answer 429 `concurrency_limit` while this many jobs are queued or running. */
  maxConcurrentJobs: positiveInt.optional(),
  /** 5xx answers; `retryAfterSeconds` adds a `Retry-After` header. */
  serverErrors: z
    .strictObject({
      status: z.union([z.literal(500), z.literal(502), z.literal(503)]),
      retryAfterSeconds: z.number().int().nonnegative().optional(),
      ...cadence,
    })
    .optional(),
  /** Destroy the socket without an answer (TCP reset); `afterHandling`: only once the request took effect. */
  reset: z.strictObject({ ...cadence, afterHandling: z.boolean().optional() }).optional(),
  /** Never answer; close the socket after `ms`. `afterHandling` as for `reset`. */
  hang: z
    .strictObject({ ms: positiveInt.max(MAX_DELAY_MS), ...cadence, afterHandling: z.boolean().optional() })
    .optional(),
  /** A successful answer's body cut in half (still status 200): unparseable. */
  malformed: cadenceSchema.optional(),
  /** A successful answer with required fields missing and others of the wrong type. */
  contractBreak: cadenceSchema.optional(),
  /**
   * A 200 whose media is broken: `truncated` (the first half of the bytes), `corrupt` (same length,
   * the second half scrambled), `html` (a CDN challenge page), `empty` (no bytes). Media endpoints only.
   */
  media: z.strictObject({ kind: z.enum(['truncated', 'corrupt', 'html', 'empty']), ...cadence }).optional(),
  /** 400 `sentinel_block` on submissions, before generation (not billed). */
  sentinelBlock: cadenceSchema.optional(),
  /** Accepted jobs fail half-way with this code (`processing_error` is billed 0). */
  failJobs: z
    .strictObject({
      code: z.enum(['processing_error', 'moderation_blocked']),
      matchWord: z.string().min(1).optional(),
      ...cadence,
    })
    .optional(),
  /** Jobs accepted while set never finish: stuck at 99 % in progress, or queued. */
  stuck: z
    .strictObject({
      at: z.union([z.literal(99), z.literal('queued')]),
      forever: z.literal(true).optional(),
      matchWord: z.string().min(1).optional(),
    })
    .optional(),
  /** Every call answers `status`, once all given thresholds are passed (none: at once). */
  down: z
    .strictObject({
      status: z.union([z.literal(401), z.literal(403), z.literal(404)]),
      /** The first N calls in scope after the scenario was set still work. */
      afterCalls: z.number().int().nonnegative().optional(),
      /** Not before this epoch ms of the simulator clock. */
      atMs: z.number().int().nonnegative().optional(),
      /** Not before this many seconds after the scenario was set. */
      afterSeconds: z.number().nonnegative().optional(),
    })
    .optional(),
  /** Submissions naming these characters answer 403 `cameo_permission_denied`. */
  revokedCharacters: z.array(z.string().min(1)).optional(),
  revokeAllCharacters: z.boolean().optional(),
  /** Content / file URLs expire this long after completion (overrides the option). */
  contentTtlSeconds: z.number().positive().optional(),
  /** A repeated Idempotency-Key creates (and bills) a new job, as some real providers do. */
  ignoreIdempotencyKeys: z.boolean().optional(),
  /** Submissions are accepted (and billed), then answered with this 5xx: a gateway timing out in front of the queue. */
  errorAfterAccept: z
    .strictObject({ status: z.union([z.literal(502), z.literal(503), z.literal(504)]), ...cadence })
    .optional(),
  /** Submissions refused for want of money (Kling 1102), before any job exists. */
  balanceExhausted: cadenceSchema.optional(),
  /** Submissions (prompts, or reference images where `matchWord` is absent) refused by moderation at once, unbilled. */
  submitModeration: z.strictObject({ matchWord: z.string().min(1).optional(), ...cadence }).optional(),
};

const faultSetSchema = z.strictObject(faultSetShape);

function endpointsSchema(contract: Contract) {
  const shape = Object.fromEntries(ENDPOINTS[contract].map((name) => [name, faultSetSchema.optional()]));
  return z.strictObject(shape as Record<EndpointName, z.ZodOptional<typeof faultSetSchema>>);
}

const contractFaultsSchema = (contract: Contract) =>
  faultSetSchema.extend({ endpoints: endpointsSchema(contract).optional() });

export const scenarioSchema = z.strictObject({
  contracts: z
    .strictObject({
      official: contractFaultsSchema('official').optional(),
      'relay-v1': contractFaultsSchema('relay-v1').optional(),
      fal: contractFaultsSchema('fal').optional(),
      seedance: contractFaultsSchema('seedance').optional(),
      kling: contractFaultsSchema('kling').optional(),
    })
    .optional(),
  /** Prompts containing this word (case-insensitive) are accepted, then fail with moderation_blocked. */
  rejectWord: z.string().min(1).optional(),
  /** Overrides the simulated generation time for jobs submitted from now on. */
  jobSeconds: z.number().positive().max(86_400).optional(),
  /** Overrides `contentTtlSeconds` for every contract (a contract's own value wins). */
  contentTtlSeconds: z.number().positive().optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type FaultSet = z.infer<typeof faultSetSchema>;
export type FaultKind = keyof FaultSet;
export type DownFault = NonNullable<FaultSet['down']>;
export type Cadence = z.infer<typeof cadenceSchema>;
export type MediaDamage = NonNullable<FaultSet['media']>['kind'];

export function parseScenario(input: unknown): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success) {
    const details = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new ScenarioError(`invalid scenario: ${details}`);
  }
  return result.data;
}

/** A fault as it applies to one call: its settings and the scope whose calls it counts. */
export interface ScopedFault<K extends FaultKind> {
  value: NonNullable<FaultSet[K]>;
  /** `official` (contract level) or `official.create` (endpoint level). */
  scope: string;
}

/** The active scenario plus what it needs to remember: when it was set, and counters since then. */
export class ScenarioState {
  private scenario: Scenario = {};
  private setAtMs = 0;
  private counters = new Map<string, number>();

  current(): Scenario {
    return structuredClone(this.scenario);
  }

  /** Validate and install; counters and the time baseline restart (`afterCalls`, `burst`, `afterSeconds`). */
  replace(input: unknown, nowMs: number): Scenario {
    this.scenario = parseScenario(input);
    this.resetBaseline(nowMs);
    return this.current();
  }

  /** After a reset the call counters restart at zero, and so does the baseline. */
  resetBaseline(nowMs: number): void {
    this.setAtMs = nowMs;
    this.counters = new Map();
  }

  /** Epoch ms (simulator clock) when the scenario was set. */
  baselineMs(): number {
    return this.setAtMs;
  }

  /** Count one more event for `key` since the scenario was set; returns the new count (1-based). */
  tick(key: string): number {
    const next = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, next);
    return next;
  }

  /**
   * The fault of `kind` for a call to `endpoint` of `contract`: the endpoint's own if set, else the
   * contract's (unless `inherit` is false, as for relay files).
   */
  fault<K extends FaultKind>(
    contract: Contract,
    endpoint: string,
    kind: K,
    inherit = true,
  ): ScopedFault<K> | undefined {
    const faults = this.scenario.contracts?.[contract];
    const own = (faults?.endpoints as Record<string, FaultSet | undefined> | undefined)?.[endpoint]?.[kind];
    if (own !== undefined) return { value: own as NonNullable<FaultSet[K]>, scope: `${contract}.${endpoint}` };
    const shared = inherit ? faults?.[kind] : undefined;
    return shared === undefined ? undefined : { value: shared as NonNullable<FaultSet[K]>, scope: contract };
  }

  rejects(prompt: string): boolean {
    const word = this.scenario.rejectWord;
    return word !== undefined && prompt.toLowerCase().includes(word.toLowerCase());
  }

  jobSeconds(fallback: number): number {
    return this.scenario.jobSeconds ?? fallback;
  }

  contentTtlSeconds(contract: Contract, endpoint: string, fallback: number): number {
    return this.fault(contract, endpoint, 'contentTtlSeconds')?.value ?? this.scenario.contentTtlSeconds ?? fallback;
  }
}
