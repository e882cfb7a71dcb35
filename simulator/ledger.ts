/**
 * What the simulated upstreams would have charged: one entry per accepted submission, plus a count
 * of every call per contract and per endpoint (refused ones too). Tests and dry runs compare it
 * with the orchestrator's own accounting, so "nothing lost, nothing paid twice" can be checked
 * from outside: each entry carries its idempotency key and how its job ended.
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
  /** How the job ended: `completed` / `failed`, or null while it has not (stuck jobs stay null). */
  finalStatus: 'completed' | 'failed' | null;
  /** The failure code of a failed job (`moderation_blocked`, `processing_error`), else null. */
  errorCode: string | null;
}

/** Calls per endpoint name of each contract (`unknown` for unmatched paths). */
export type CallsByEndpoint = Record<Contract, Record<string, number>>;

export interface LedgerSnapshot {
  entries: LedgerEntry[];
  calls: Record<Contract, number>;
  callsByEndpoint: CallsByEndpoint;
}

const noCalls = (): Record<Contract, number> => ({ official: 0, 'relay-v1': 0, kling: 0 });
const noEndpointCalls = (): CallsByEndpoint => ({ official: {}, 'relay-v1': {}, kling: {} });

interface StoredEntry {
  entry: Omit<LedgerEntry, 'status' | 'billedUsd' | 'finalStatus' | 'errorCode'>;
  listPriceUsd: number;
}

export class Ledger {
  private stored: StoredEntry[] = [];
  private callCounts = noCalls();
  private endpointCounts = noEndpointCalls();

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

  /**
   * Count one call to `endpoint` of `contract`; returns its 1-based number within the contract.
   * `inContractTotal: false` counts it per endpoint only (relay files, which `calls` leaves out).
   */
  countCall(contract: Contract, endpoint = 'unknown', inContractTotal = true): number {
    const byEndpoint = this.endpointCounts[contract];
    byEndpoint[endpoint] = (byEndpoint[endpoint] ?? 0) + 1;
    if (inContractTotal) this.callCounts[contract] += 1;
    return this.callCounts[contract];
  }

  calls(): Record<Contract, number> {
    return { ...this.callCounts };
  }

  callsByEndpoint(): CallsByEndpoint {
    return Object.fromEntries(
      Object.entries(this.endpointCounts).map(([contract, counts]) => [contract, { ...counts }]),
    ) as CallsByEndpoint;
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
      const finalStatus = status === 'completed' || status === 'failed' ? status : null;
      return {
        ...entry,
        characterIds: [...entry.characterIds],
        billedUsd,
        status,
        finalStatus,
        errorCode: view?.error?.code ?? null,
      };
    });
  }

  snapshot(): LedgerSnapshot {
    return { entries: this.entries(), calls: this.calls(), callsByEndpoint: this.callsByEndpoint() };
  }

  clear(): void {
    this.stored = [];
    this.callCounts = noCalls();
    this.endpointCounts = noEndpointCalls();
  }
}
