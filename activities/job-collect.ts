/**
 * Waiting for a job without holding anything: `collectJob` checks the job once and, while it
 * runs, fails with a benign `JobNotReady` whose retry delay is the next check's time
 * (check-plan.ts). The server holds the wait between attempts, so a waiting scene costs no worker
 * slot, no memory and no history (retries add no events). The attempt that finds the job done
 * goes on to download and store it, heartbeating, so a worker lost mid-download is noticed at the
 * heartbeat timeout and another one resumes.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { activityLogger, assetsDirOf, providerOf, type ActivityDeps } from './deps';
import { nextCheckDelayMs, type CheckSample } from './check-plan';
import { storeJobAsset, type JobAssetRequest } from './job-asset';
import { MEDIA_DOWNLOAD_ATTEMPTS } from './media-check';
import { asActivityFailure, recordProviderError } from './provider-failures';
import type { JobStatus } from './providers/provider';
import type { ContractKind } from '../workflows/types';
import { StatusBatcher } from './status-batcher';
import type { StoredFile } from './storage';
import { failureTypeOf, JOB_FAILED, JOB_NOT_READY, JOB_OVERDUE, STORE_FAILED } from '../workflows/failures';

export interface CollectRequest extends JobAssetRequest {
  /** Only names the take in logs. */
  take?: number;
  /** A job not finished this long after the wait began is given up (the scene's job deadline). */
  deadlineSeconds: number;
  /** Check at once, not at the planned first check (a webhook said the job ended). */
  checkNow?: boolean;
}

/** What one attempt leaves the next (heartbeat details); `progress` and `state` also feed `watch`. */
export interface CollectProgress {
  progress: number;
  state: JobStatus['state'] | 'submitted';
  sample?: CheckSample;
  previous?: CheckSample;
  /** Download attempts so far, once the job is done. */
  downloads?: number;
  /** What the upstream billed for the finished job, where its contract says. */
  billedUsd?: number;
}

/** A finished job: its stored video, and what the upstream billed where it says (settles the estimate). */
export interface CollectedJob {
  asset: StoredFile;
  billedUsd?: number;
  /** When the check that found the job done returned (epoch ms): what the bench times notices by. */
  foundAtMs?: number;
}

/** Contracts whose running jobs show a stand-in progress (half-way), not a measured one: planned as no progress. */
const NO_PROGRESS: ReadonlySet<ContractKind> = new Set(['kling', 'fal', 'seedance']);

/**
 * A next check due within this is waited for inside the attempt (heartbeating) rather than by a
 * server retry, whose timer and dispatch added about half a second to each job's notice (npm run
 * bench, latency); at most MAX_STRETCH_MS of an attempt is spent so.
 */
const FINAL_STRETCH_MS = 2_000;
const MAX_STRETCH_MS = 6_000;

/** Download attempts before the stored copy is given up (the scene then makes a new take). */
export const DOWNLOAD_ATTEMPTS = 8;
const DOWNLOAD_BACKOFF_MS = { initial: 2_000, max: 60_000 };

/** A retryable failure, retried after `delayMs` instead of the retry policy's backoff. */
function retryAfter(failure: ApplicationFailure, delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({
    message: failure.message,
    ...(failure.type ? { type: failure.type } : {}),
    details: failure.details ? [...failure.details] : [],
    nextRetryDelay: Math.max(delayMs, typeof failure.nextRetryDelay === 'number' ? failure.nextRetryDelay : 0),
  });
}

export function jobCollectActivities(deps: ActivityDeps) {
  const assetsDir = assetsDirOf(deps);
  const batcher = new StatusBatcher();

  async function collectJob(input: CollectRequest): Promise<CollectedJob> {
    const provider = providerOf(deps, input.provider);
    const context = Context.current();
    const { info } = context;
    const log = activityLogger(deps, { provider: input.provider, jobId: input.jobId });
    const carried = info.heartbeatDetails as CollectProgress | undefined;
    const elapsed = () => Date.now() - info.scheduledTimestampMs;
    const plan = (now?: CheckSample, previous?: CheckSample) =>
      nextCheckDelayMs({
        elapsedMs: elapsed(),
        expectedMs: (provider.profile.expectedJobSeconds ?? 120) * 1000,
        minMs: deps.pollIntervalMs,
        webhooks: provider.profile.webhooks ?? false,
        ...(now ? { now } : {}),
        ...(previous ? { previous } : {}),
      });
    const notReady = (progress: CollectProgress, delayMs: number) =>
      ApplicationFailure.create({
        type: JOB_NOT_READY,
        category: 'BENIGN', // expected, not an error: the SDK logs it at DEBUG and counts no failure
        message: `job ${input.jobId} ${progress.state} at ${progress.progress} %: next check in ${Math.round(delayMs / 100) / 10} s`,
        nextRetryDelay: delayMs,
      });
    // A check due within the final stretch is waited for here: a server retry costs more than the wait.
    let stretchMs = 0;
    const waitHere = async (delayMs: number, progress: CollectProgress): Promise<boolean> => {
      if (delayMs > FINAL_STRETCH_MS || stretchMs + delayMs > MAX_STRETCH_MS) return false;
      stretchMs += delayMs;
      await context.sleep(delayMs);
      context.heartbeat(progress);
      return true;
    };

    if (carried?.downloads === undefined) {
      let last = carried;
      if (info.attempt === 1 && !input.checkNow) {
        const firstMs = plan();
        const waiting: CollectProgress = { progress: 0, state: 'submitted' };
        context.heartbeat(waiting);
        if (firstMs > 0 && !(await waitHere(firstMs, waiting))) throw notReady(waiting, firstMs);
      }
      for (;;) {
        let job: JobStatus;
        try {
          job = await batcher.read(provider, input.jobId);
        } catch (err) {
          const failure = asActivityFailure(err);
          // A status read that failed tells nothing: try again at the planned time, and never at once
          // (a zero delay would end the server's retries).
          if (failure instanceof ApplicationFailure && !failure.nonRetryable)
            throw retryAfter(failure, Math.max(deps.pollIntervalMs, plan(last?.sample, last?.previous)));
          throw failure;
        }
        const measured = job.state === 'completed' || !NO_PROGRESS.has(provider.contract);
        const sample = { elapsedMs: elapsed(), progress: measured ? job.progress : 0 };
        const progress: CollectProgress = {
          progress: job.progress,
          state: job.state,
          sample,
          ...(last?.sample ? { previous: last.sample } : {}),
        };
        context.heartbeat(progress);
        if (job.state === 'failed') {
          const error = job.error ?? { kind: 'transient', code: 'unknown', message: 'job failed without a reason' };
          log.warn({ code: error.code, kind: error.kind }, 'job failed');
          recordProviderError(input.provider, error.kind);
          throw ApplicationFailure.create({
            message: `${error.code}: ${error.message}`,
            type: error.kind === 'rejected' ? failureTypeOf.rejected : JOB_FAILED,
            nonRetryable: true,
            details: [{ kind: error.kind, code: error.code, provider: input.provider, jobId: input.jobId }],
          });
        }
        if (job.state === 'completed') {
          log.info({ attempts: info.attempt, billed: job.billed }, 'job completed');
          return {
            ...(await download(input, 1, job.billed?.usd)),
            foundAtMs: sample.elapsedMs + info.scheduledTimestampMs,
          };
        }
        const leftMs = input.deadlineSeconds * 1000 - sample.elapsedMs;
        if (leftMs <= 0)
          throw ApplicationFailure.create({
            type: JOB_OVERDUE,
            nonRetryable: true,
            message: `job ${input.jobId} still ${job.state} at ${job.progress} % after ${input.deadlineSeconds} s`,
          });
        const delayMs = Math.min(plan(sample, last?.sample), leftMs);
        if (!(await waitHere(delayMs, progress))) throw notReady(progress, delayMs);
        last = progress;
      }
    }
    return download(input, carried.downloads + 1, carried.billedUsd);
  }

  async function download(input: CollectRequest, downloads: number, billedUsd?: number): Promise<CollectedJob> {
    const context = Context.current();
    const done: CollectProgress = {
      progress: 100,
      state: 'completed',
      downloads,
      ...(billedUsd !== undefined ? { billedUsd } : {}),
    };
    const heartbeat = () => context.heartbeat(done); // the same details, so a retry knows it is downloading
    heartbeat();
    const lastTry = downloads >= DOWNLOAD_ATTEMPTS;
    try {
      const asset = await storeJobAsset(providerOf(deps, input.provider), input, {
        assetsDir,
        heartbeat,
        lastTry: lastTry || downloads >= MEDIA_DOWNLOAD_ATTEMPTS,
        log: activityLogger(deps, { provider: input.provider, jobId: input.jobId }),
      });
      return { asset, ...(billedUsd !== undefined ? { billedUsd } : {}) };
    } catch (err) {
      const failure = err instanceof ApplicationFailure ? err : asActivityFailure(err);
      const message = failure instanceof Error ? failure.message : String(failure);
      if (lastTry || !(failure instanceof ApplicationFailure) || failure.nonRetryable)
        throw ApplicationFailure.create({ type: STORE_FAILED, nonRetryable: true, message, cause: failure as Error });
      const backoff = Math.min(DOWNLOAD_BACKOFF_MS.max, DOWNLOAD_BACKOFF_MS.initial * 2 ** (downloads - 1));
      throw retryAfter(failure, backoff);
    }
  }

  return { collectJob };
}
