import { proxyActivities } from '@temporalio/workflow';
import type { SeriesActivities } from '../activities';

/** Activity proxies with the timeouts each kind of work needs; one place so workflows agree. */

/** Quick upstream calls: submit, character creation. Retries back off; provider errors carry their own retryability. */
export const upstream = proxyActivities<SeriesActivities>({
  // A little over the providers' request timeout: a worker that dies mid-call is noticed soon.
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
});

/** Downloads can be large: bounded overall, and a heartbeat per chunk shows they still move. */
export const transfers = proxyActivities<SeriesActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

/** Local bookkeeping: manifests. */
export const local = proxyActivities<SeriesActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

/**
 * Waiting for a job. The heartbeat timeout is short so a dead worker is noticed in seconds;
 * the start-to-close timeout is the deadline after which a stuck job becomes a new take.
 */
export function waiting(jobDeadlineSeconds: number) {
  return proxyActivities<SeriesActivities>({
    // Schedule-to-close bounds all attempts together: a start-to-close timeout alone would be retried.
    scheduleToCloseTimeout: `${jobDeadlineSeconds} seconds`,
    startToCloseTimeout: `${jobDeadlineSeconds} seconds`,
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds', maximumAttempts: 20 },
  });
}

/** What a job's download may take after it finished: the collect activity's deadline is the job's plus this. */
const DOWNLOAD_ALLOWANCE_SECONDS = 600;

/**
 * Collecting a job (activities/job-collect.ts): each attempt checks the job once and the server
 * retries it at the time the attempt names (benign `JobNotReady`), so waiting holds no worker.
 * The heartbeat timeout notices a lost worker during a check or a download; the retry policy's
 * own backoff only paces failures that name no delay (a lost worker), so it stays short.
 */
export function collecting(jobDeadlineSeconds: number) {
  return proxyActivities<SeriesActivities>({
    scheduleToCloseTimeout: `${jobDeadlineSeconds + DOWNLOAD_ALLOWANCE_SECONDS} seconds`,
    startToCloseTimeout: `${DOWNLOAD_ALLOWANCE_SECONDS} seconds`,
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 seconds' }, // attempts: unbounded, the deadline bounds them
  });
}
