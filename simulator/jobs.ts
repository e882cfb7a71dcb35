/**
 * Generation jobs of both contracts and how they progress. Progress is computed from the clock on
 * every read, never by timers: nothing runs between requests, a closed simulator leaves nothing
 * behind, and a test clock can step through a job exactly.
 */
import type { IdMinter, SeededRandom } from './prng';
import type { Contract } from './scenario';

/** How a job will end, decided when it is accepted (scenarios act at submit time). */
export type JobOutcome = 'succeed' | 'moderation_blocked' | 'processing_error';

/** A job that never finishes (scenario `stuck`): in progress at 99 %, or queued forever. */
export type JobStuck = 99 | 'queued';

export interface Job {
  id: string;
  contract: Contract;
  prompt: string;
  /** Seconds of output the job was asked for. */
  seconds: number;
  /** `WIDTHxHEIGHT`. */
  size: string;
  createdAtMs: number;
  /** The key it was submitted with, if any (its video shows the scene a sora-series key names). */
  idempotencyKey?: string;
  /** Official model id as requested (snapshots kept verbatim); undefined on relays. */
  model?: string;
  characterIds: string[];
  remixedFromId: string | null;
  durationMs: number;
  outcome: JobOutcome;
  /** Set when the job will never finish; wins over `outcome`. */
  stuck?: JobStuck;
  deleted: boolean;
}

export type JobPhase = 'queued' | 'running' | 'completed' | 'failed';

export interface JobError {
  code: string;
  message: string;
}

export interface JobView {
  phase: JobPhase;
  /** 0..100; 100 only when completed. */
  progress: number;
  /** When the job completed or failed. */
  finishedAtMs: number | null;
  error: JobError | null;
}

/** The first tenth of a job is spent queued, as real upstreams show before rendering starts. */
const QUEUED_FRACTION = 0.1;
/** Failing jobs fail half-way, "during generation" as moderation does in practice. */
const FAILURE_FRACTION = 0.5;

export const JOB_ERRORS: Readonly<Record<Exclude<JobOutcome, 'succeed'>, JobError>> = {
  moderation_blocked: { code: 'moderation_blocked', message: 'This content may violate our content policies.' },
  processing_error: { code: 'processing_error', message: "We're under heavy load, please try again later." },
};

function runningProgress(fraction: number): number {
  return Math.min(99, Math.max(0, Math.floor(((fraction - QUEUED_FRACTION) / (1 - QUEUED_FRACTION)) * 100)));
}

export function viewJob(job: Job, nowMs: number): JobView {
  const elapsed = Math.max(0, nowMs - job.createdAtMs);
  const fraction = job.durationMs <= 0 ? 1 : elapsed / job.durationMs;
  if (job.stuck === 'queued' || (job.stuck === 99 && fraction < QUEUED_FRACTION)) {
    return { phase: 'queued', progress: 0, finishedAtMs: null, error: null };
  }
  if (job.stuck === 99)
    return { phase: 'running', progress: runningProgress(Math.min(fraction, 1)), finishedAtMs: null, error: null };
  if (job.outcome !== 'succeed' && fraction >= FAILURE_FRACTION) {
    return {
      phase: 'failed',
      progress: runningProgress(FAILURE_FRACTION),
      finishedAtMs: job.createdAtMs + job.durationMs * FAILURE_FRACTION,
      error: JOB_ERRORS[job.outcome],
    };
  }
  if (fraction >= 1)
    return { phase: 'completed', progress: 100, finishedAtMs: job.createdAtMs + job.durationMs, error: null };
  if (fraction < QUEUED_FRACTION) return { phase: 'queued', progress: 0, finishedAtMs: null, error: null };
  return { phase: 'running', progress: runningProgress(fraction), finishedAtMs: null, error: null };
}

/** When a job ends (epoch ms), as viewJob will report it; null for a stuck job, which never does. */
export function finishesAtMs(job: Job): number | null {
  if (job.stuck !== undefined) return null;
  return job.createdAtMs + Math.max(0, job.durationMs) * (job.outcome === 'succeed' ? 1 : FAILURE_FRACTION);
}

export interface JobDraft {
  /** A contract's own id format (Kling's numeric task ids, seedance's `cgt-...`); minted here when absent. */
  id?: string;
  prompt: string;
  seconds: number;
  size: string;
  model?: string;
  characterIds: string[];
  remixedFromId?: string | null;
}

export class JobStore {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly ids: IdMinter,
    private readonly durations: SeededRandom,
  ) {}

  /** Accept a job: mint its id, draw its duration (jobSeconds ± jitter). */
  create(
    contract: Contract,
    draft: JobDraft,
    opts: {
      nowMs: number;
      jobSeconds: number;
      jitter: number;
      outcome: JobOutcome;
      stuck?: JobStuck;
      idempotencyKey?: string;
    },
  ): Job {
    // fal's request ids are UUIDs; other twins may bring their own
    const id =
      draft.id ?? (contract === 'fal' ? this.ids.uuid() : this.ids.mint(contract === 'official' ? 'video' : 'task'));
    const durationMs = Math.max(
      1,
      Math.round(opts.jobSeconds * 1000 * (1 + opts.jitter * this.durations.nextSigned())),
    );
    const job: Job = {
      id,
      contract,
      prompt: draft.prompt,
      seconds: draft.seconds,
      size: draft.size,
      model: draft.model,
      characterIds: [...draft.characterIds],
      remixedFromId: draft.remixedFromId ?? null,
      createdAtMs: opts.nowMs,
      ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
      durationMs,
      outcome: opts.outcome,
      ...(opts.stuck !== undefined ? { stuck: opts.stuck } : {}),
      deleted: false,
    };
    this.jobs.set(id, job);
    return job;
  }

  /** Insert a job with a fixed id (the seeded demo task). */
  insert(job: Job): void {
    this.jobs.set(job.id, job);
  }

  /** A live (not deleted) job of `contract`. */
  get(contract: Contract, id: string): Job | undefined {
    const job = this.jobs.get(id);
    return job && job.contract === contract && !job.deleted ? job : undefined;
  }

  /** Any job by id, deleted ones included (the ledger still reports on them). */
  lookup(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** All jobs of `contract` in creation order, deleted ones included (cursors may point at them). */
  all(contract: Contract): Job[] {
    return [...this.jobs.values()].filter((job) => job.contract === contract);
  }

  /** How many live jobs of `contract` are queued or running at `nowMs` (stuck ones included). */
  activeCount(contract: Contract, nowMs: number): number {
    let count = 0;
    for (const job of this.jobs.values()) {
      if (job.contract !== contract || job.deleted) continue;
      const phase = viewJob(job, nowMs).phase;
      if (phase === 'queued' || phase === 'running') count += 1;
    }
    return count;
  }

  clear(): void {
    this.jobs.clear();
  }
}
