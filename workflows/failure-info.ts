import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { JOB_FAILED, JOB_NOT_READY, JOB_OVERDUE, kindOfFailureType, STORE_FAILED } from './failures';
import type { ErrorKind } from './types';

/** What went wrong in an activity, as routing needs it. */
export interface FailureInfo {
  /** The provider error kind, `job_failed`, `timeout` (a stuck job or dead upstream), `store_failed` (a finished job's video could not be stored), or `unknown`. */
  kind: ErrorKind | 'job_failed' | 'timeout' | 'store_failed' | 'unknown';
  message: string;
  /** The upstream's error code, when the activity classified one (`cameo_permission_denied`). */
  code?: string;
}

export function describeFailure(err: unknown): FailureInfo {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) return { kind: 'timeout', message: `timed out (${cause.timeoutType})` };
  if (cause instanceof ApplicationFailure) {
    if (cause.type === JOB_FAILED) return { kind: 'job_failed', message: cause.message };
    if (cause.type === STORE_FAILED) return { kind: 'store_failed', message: cause.message };
    // Checks out of time (the server stops retrying at the deadline) or a job past it: a stuck job.
    if (cause.type === JOB_NOT_READY || cause.type === JOB_OVERDUE)
      return { kind: 'timeout', message: `job not finished by its deadline (${cause.message})` };
    const code = (cause.details?.[0] as { code?: unknown } | undefined)?.code;
    return {
      kind: kindOfFailureType(cause.type) ?? 'unknown',
      message: cause.message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { kind: 'unknown', message: err instanceof Error ? err.message : String(err) };
}
