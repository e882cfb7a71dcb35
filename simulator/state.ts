/**
 * Everything one simulator instance knows, and the one path every accepted submission takes
 * (idempotency, scenario outcome, duration draw, billing), so both contracts bill the same way.
 */
import { CharacterStore } from './characters';
import { JobStore, type Job, type JobDraft, type JobOutcome } from './jobs';
import { Ledger } from './ledger';
import { deriveStream, IdMinter } from './prng';
import { ScenarioState, type Contract } from './scenario';

export interface SimulatorConfig {
  seed: number;
  jobSeconds: number;
  jitter: number;
  keys: { official: string; relay: string };
  contentTtlSeconds: number;
  now: () => number;
}

/** Fixed id of the relay task seeded at startup, so specs can extract "from an earlier task". */
export const DEMO_TASK_ID = 'task_demo_origin';
export const DEMO_TASK_PROMPT = 'origin clip of the hero';

export interface Submission {
  job: Job;
  /** True when an earlier request with the same Idempotency-Key already created the job. */
  replayed: boolean;
}

export class SimulatorState {
  jobs!: JobStore;
  characters!: CharacterStore;
  ledger!: Ledger;
  readonly scenario = new ScenarioState();
  /** Public base URL (`http://127.0.0.1:PORT`), known once the server listens. */
  baseUrl = '';
  private idempotency = new Map<string, string>();

  constructor(readonly config: SimulatorConfig) {
    this.reset();
  }

  now(): number {
    return this.config.now();
  }

  /**
   * Back to a freshly started simulator (fresh id and duration streams included, so a reset run
   * is as reproducible as a new one), keeping only the scenario.
   */
  reset(): void {
    this.jobs = new JobStore(new IdMinter(this.config.seed), deriveStream(this.config.seed, 'durations'));
    this.characters = new CharacterStore(new IdMinter(this.config.seed ^ 0x5eed));
    this.ledger = new Ledger(this.jobs, () => this.now());
    this.idempotency = new Map();
    this.scenario.resetBaseline();
    this.seedDemoTask();
  }

  private seedDemoTask(): void {
    const startedAt = this.now();
    this.jobs.insert({
      id: DEMO_TASK_ID,
      contract: 'relay-v1',
      prompt: DEMO_TASK_PROMPT,
      seconds: 10,
      size: '720x1280',
      characterIds: [],
      remixedFromId: null,
      createdAtMs: startedAt,
      durationMs: 0, // already completed
      outcome: 'succeed',
      deleted: false,
    });
  }

  /**
   * Accept a job once per idempotency key: a replay returns the first job and bills nothing.
   * Keys are scoped per contract, as each upstream keeps its own.
   */
  submit(contract: Contract, draft: JobDraft, listPriceUsd: number, idempotencyKey?: string): Submission {
    const scopedKey = idempotencyKey === undefined ? undefined : `${contract}\u0000${idempotencyKey}`;
    if (scopedKey !== undefined) {
      const earlier = this.idempotency.get(scopedKey);
      const job = earlier === undefined ? undefined : this.jobs.lookup(earlier);
      if (job) return { job, replayed: true };
    }
    const outcome: JobOutcome = this.scenario.rejects(draft.prompt) ? 'moderation_blocked' : 'succeed';
    const job = this.jobs.create(contract, draft, {
      nowMs: this.now(),
      jobSeconds: this.scenario.jobSeconds(this.config.jobSeconds),
      jitter: this.config.jitter,
      outcome,
    });
    this.ledger.record(job, listPriceUsd, idempotencyKey);
    if (scopedKey !== undefined) this.idempotency.set(scopedKey, job.id);
    return { job, replayed: false };
  }

  /** When (epoch ms) the downloadable assets of a job finished at `finishedAtMs` expire. */
  expiresAtMs(finishedAtMs: number): number {
    return finishedAtMs + this.config.contentTtlSeconds * 1000;
  }
}
