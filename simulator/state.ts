/**
 * Everything one simulator instance knows, and the one path every accepted submission takes
 * (idempotency, concurrency limit, scenario outcome, duration draw, billing), so both contracts
 * bill the same way.
 */
import { CharacterStore } from './characters';
import { FaultPlanner } from './faults';
import { KlingAccount } from './kling-account';
import { JobStore, type Job, type JobDraft } from './jobs';
import { Ledger } from './ledger';
import { MediaRenderer, videoSubject, type VideoSubject } from './media';
import { deriveStream, IdMinter, type SeededRandom } from './prng';
import { ScenarioState, type Contract } from './scenario';
import { Holds } from './transport';

export interface SimulatorConfig {
  seed: number;
  jobSeconds: number;
  jitter: number;
  keys: { official: string; relay: string; fal: string; seedance?: string; kling?: string };
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
  /** The Kling twin's elements, external ids and task orders. */
  kling!: KlingAccount;
  readonly scenario = new ScenarioState();
  readonly faults: FaultPlanner;
  /** Timers and sockets held by latency and hang faults; released by close(). */
  readonly holds = new Holds();
  /** Rendered videos, thumbnails and clips, cached (the bytes depend on the job only, so reset keeps them). */
  readonly media = new MediaRenderer();
  /** Public base URL (`http://127.0.0.1:PORT`), known once the server listens. */
  baseUrl = '';
  /** Told of every newly accepted job (replays excluded); the webhook sender schedules its event. */
  onJobAccepted?: (job: Job) => void;
  /** Run by reset(): contract twins that keep state of their own (fal's requests and uploads). */
  readonly resetHooks: Array<() => void> = [];
  private idempotency = new Map<string, string>();
  private latencyStream!: SeededRandom;

  constructor(readonly config: SimulatorConfig) {
    this.faults = new FaultPlanner(this.scenario, () => this.latencyStream);
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
    this.kling = new KlingAccount();
    this.idempotency = new Map();
    this.latencyStream = deriveStream(this.config.seed, 'latency');
    this.scenario.resetBaseline(this.now());
    this.seedDemoTask();
    for (const hook of this.resetHooks ?? []) hook();
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
   * Accept a job once per idempotency key: a replay returns the first job and bills nothing
   * (unless the scenario ignores keys). Keys are scoped per contract, as each upstream keeps its
   * own. Throws the 429 of a `maxConcurrentJobs` limit.
   */
  submit(
    contract: Contract,
    endpoint: string,
    draft: JobDraft,
    listPriceUsd: number,
    idempotencyKey?: string,
  ): Submission {
    const scopedKey = idempotencyKey === undefined ? undefined : `${contract}\u0000${idempotencyKey}`;
    if (scopedKey !== undefined && !this.faults.ignoresIdempotencyKeys(contract, endpoint)) {
      const earlier = this.idempotency.get(scopedKey);
      const job = earlier === undefined ? undefined : this.jobs.lookup(earlier);
      if (job) return { job, replayed: true };
    }
    const refusal = this.faults.concurrencyRefusal(contract, endpoint, () =>
      this.jobs.activeCount(contract, this.now()),
    );
    if (refusal) throw refusal;
    const fate = this.faults.jobFate(contract, endpoint, draft.prompt);
    const job = this.jobs.create(contract, draft, {
      nowMs: this.now(),
      jobSeconds: this.scenario.jobSeconds(this.config.jobSeconds),
      jitter: this.config.jitter,
      idempotencyKey,
      ...fate,
    });
    this.ledger.record(job, listPriceUsd, idempotencyKey);
    if (scopedKey !== undefined) this.idempotency.set(scopedKey, job.id);
    this.onJobAccepted?.(job);
    return { job, replayed: false };
  }

  /** What a job's media shows: its scene (from the key), prompt, contract and cast by name. */
  mediaSubject(job: Job): VideoSubject {
    return videoSubject(job, (id) => this.characters.get(job.contract, id)?.name);
  }

  /**
   * When (epoch ms) the downloadable assets of a job finished at `finishedAtMs` expire, as seen
   * from `endpoint` (a scenario's `contentTtlSeconds` overrides the option, at read time).
   */
  expiresAtMs(finishedAtMs: number, contract: Contract, endpoint: string): number {
    return finishedAtMs + this.scenario.contentTtlSeconds(contract, endpoint, this.config.contentTtlSeconds) * 1000;
  }
}
