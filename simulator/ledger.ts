/**
 * What the simulated upstreams would have charged: one entry per accepted submission, plus a count
 * of every call per contract (refused ones too). Tests and dry runs compare it with the
 * orchestrator's own accounting, so "never pay twice for a scene" can be checked from outside.
 */
import { viewJob, type Job, type JobStore } from './jobs';
import type { Contract } from './scenario';

export type LedgerStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface LedgerEntry {
  seq: number;
  /** ISO time of acceptance. */
  at: string;
  contract: Contract;
  jobId: string;
  idempotencyKey?: string;
  prompt: string;
  characterIds: string[];
  seconds: number;
  size?: string;
  model?: string;
  billedUsd: number;
  status: LedgerStatus;
}

export interface LedgerSnapshot {
  entries: LedgerEntry[];
  calls: Record<Contract, number>;
}

interface StoredEntry {
  entry: Omit<LedgerEntry, 'status' | 'billedUsd'>;
  listPriceUsd: number;
}

export class Ledger {
  private stored: StoredEntry[] = [];
  private callCounts: Record<Contract, number> = { official: 0, 'relay-v1': 0 };

  constructor(
    private readonly jobs: JobStore,
    private readonly now: () => number,
  ) {}

  /** Bill an accepted job at its list price (a failure may still cut that to 0, see `entries`). */
  record(job: Job, listPriceUsd: number, idempotencyKey?: string): void {
    this.stored.push({
      listPriceUsd,
      entry: {
        seq: this.stored.length + 1,
        at: new Date(job.createdAtMs).toISOString(),
        contract: job.contract,
        jobId: job.id,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        prompt: job.prompt,
        characterIds: [...job.characterIds],
        seconds: job.seconds,
        ...(job.contract === 'official' ? { size: job.size, model: job.model } : {}),
      },
    });
  }

  /** Count one call to `contract`; returns its 1-based number. */
  countCall(contract: Contract): number {
    this.callCounts[contract] += 1;
    return this.callCounts[contract];
  }

  calls(): Record<Contract, number> {
    return { ...this.callCounts };
  }

  /**
   * Entries with status brought up to date. Moderation failures stay billed (upstreams charge for
   * the attempt); `processing_error` failures are the upstream's fault and cost nothing.
   */
  entries(): LedgerEntry[] {
    const nowMs = this.now();
    return this.stored.map(({ entry, listPriceUsd }) => {
      const job = this.jobs.lookup(entry.jobId);
      const view = job ? viewJob(job, nowMs) : undefined;
      const status: LedgerStatus = view ? view.phase : 'completed';
      const billedUsd = view?.error?.code === 'processing_error' ? 0 : listPriceUsd;
      return { ...entry, characterIds: [...entry.characterIds], billedUsd, status };
    });
  }

  snapshot(): LedgerSnapshot {
    return { entries: this.entries(), calls: this.calls() };
  }

  clear(): void {
    this.stored = [];
    this.callCounts = { official: 0, 'relay-v1': 0 };
  }
}
