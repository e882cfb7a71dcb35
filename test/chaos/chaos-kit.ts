/**
 * Small pieces the chaos tests share: a seeded random source (so a failing run can be replayed
 * with the same kill timings), polling with deadlines instead of timing assertions, and the
 * ledger bookkeeping behind "never pay twice".
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { SeriesResult } from '../../workflows/types';

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

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
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
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
  await waitFor(
    `series ${handle.workflowId} to close`,
    async () => ((await isClosed(handle)) ? true : undefined),
    timeoutMs,
    500,
  );
  return (await handle.result()) as SeriesResult;
}

export async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Rejects when `promise` takes longer than `ms` (the promise itself keeps running). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
