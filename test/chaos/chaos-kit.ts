/**
 * Small pieces the chaos tests share: a seeded random source (so a failing run can be replayed
 * with the same kill timings), polling with deadlines instead of timing assertions, and the
 * ledger bookkeeping behind "never pay twice".
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { LedgerEntry } from '../../simulator/server';
import type { SeriesResult } from '../../workflows/types';

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * The simulator (and the source clip it serves) is on loopback, which the SSRF guard refuses in
 * specs unless allowed. Jest gives each test file its own copy of process.env, so this stays here.
 */
export function allowLoopbackSpecs(): void {
  process.env.SORA_SERIES_ALLOW_PRIVATE_URLS ??= '1';
}

/** A seeded generator of uniform numbers in [0, 1) (xorshift32); deterministic per seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/** Polls `check` until it returns a value other than undefined, or throws naming `what` at the deadline. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err; // e.g. the server is restarting: keep polling until the deadline
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

/** Whether the workflow has closed; errors (server unreachable) count as "not yet". */
export async function isClosed(handle: WorkflowHandle): Promise<boolean> {
  try {
    return (await handle.describe()).status.name !== 'RUNNING';
  } catch {
    return false;
  }
}

/** Waits for the series to close by polling describe (survives a server restart), then reads its result. */
export async function seriesOutcome(handle: WorkflowHandle, timeoutMs: number): Promise<SeriesResult> {
  await waitFor(`series ${handle.workflowId} to close`, async () => ((await isClosed(handle)) ? true : undefined), timeoutMs, 500);
  return (await handle.result()) as SeriesResult;
}

export async function sha256Of(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export interface PaymentAudit {
  /** Ledger entries of this series (by idempotency key prefix). */
  entries: LedgerEntry[];
  billed: LedgerEntry[];
  /** Idempotency keys that appear more than once in the ledger. */
  repeatedKeys: string[];
  /** Takes in the result that have an upstream job. */
  takesWithJob: number;
  /** Billed jobs no take of the result accounts for, plus extra entries per idempotency key. */
  duplicatePayments: number;
  /** Jobs of completed takes that are not exactly once in the ledger. */
  completedJobsNotOnce: string[];
}

/**
 * Compares what the upstream billed with what the series says it did. Idempotency keys are
 * `<scene workflow id>/take-<n>`, so the series' entries are the ones whose key starts with its id.
 */
export function auditPayments(ledger: LedgerEntry[], result: SeriesResult, seriesWorkflowId: string): PaymentAudit {
  const entries = ledger.filter((e) => e.idempotencyKey?.startsWith(`${seriesWorkflowId}/`));
  const billed = entries.filter((e) => e.billedUsd > 0);
  const perKey = new Map<string, number>();
  for (const e of entries) perKey.set(e.idempotencyKey!, (perKey.get(e.idempotencyKey!) ?? 0) + 1);
  const repeatedKeys = [...perKey].filter(([, n]) => n > 1).map(([key]) => key);
  const takes = result.scenes.flatMap((s) => s.takes);
  const takeJobs = new Set(takes.flatMap((t) => (t.jobId ? [t.jobId] : [])));
  const unaccounted = billed.filter((e) => !takeJobs.has(e.jobId)).length;
  const extraPerKey = [...perKey.values()].reduce((sum, n) => sum + (n - 1), 0);
  const completedJobsNotOnce = takes
    .filter((t) => t.outcome === 'completed')
    .flatMap((t) => (entries.filter((e) => e.jobId === t.jobId).length === 1 ? [] : [String(t.jobId)]));
  return {
    entries,
    billed,
    repeatedKeys,
    takesWithJob: takes.filter((t) => t.jobId).length,
    duplicatePayments: unaccounted + extraPerKey,
    completedJobsNotOnce,
  };
}

/** Rejects when `promise` takes longer than `ms` (the promise itself keeps running). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
