import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { activityLogger, assetsDirOf, providerOf, stillsDirOf, type ActivityDeps } from './deps';
import { callProvider, recordProviderError } from './provider-failures';
import type {
  LocalFile,
  SubmitRequest,
  SubmitResult,
  TakeCharacter,
  UncertainSubmission,
  VideoProvider,
} from './providers/provider';
import { referenceStills } from './stills';
import { storeJobAsset } from './job-asset';
import { MEDIA_DOWNLOAD_ATTEMPTS, type MediaOrder } from './media-check';
import type { StoredFile } from './storage';
import { mediaToolPath } from '../common/media-tools';
import { failureTypeOf, JOB_FAILED } from '../workflows/failures';
import { fitSeconds, takePriceUsd } from '../workflows/pricing';

/** A character as the workflow sends it: its clip stands for the stills, which the worker makes (stills.ts). */
export type TakeRequestCharacter = Omit<TakeCharacter, 'stills'> & { clip?: LocalFile; stills?: LocalFile[] };

/** A take as the workflow asks for it: the upstream request plus which provider gets it. */
export type TakeRequest = Omit<SubmitRequest, 'characters'> & { provider: string; characters?: TakeRequestCharacter[] };

export interface SubmittedTake {
  jobId: string;
  /** What the upstream bills for this job (by the provider's price rule). */
  costUsd: number;
  seconds: number;
  /** The take may have been paid twice (a contract without idempotency keys lost an answer): to be counted. */
  uncertain?: UncertainSubmission;
}

/** An upstream job of a take; `take` only names it in logs. */
export interface JobRef {
  provider: string;
  jobId: string;
  take?: number;
}

/** A job's finished video, to be stored; `seconds`/`size` are what the take ordered (checked by ffprobe). */
export type AssetRequest = JobRef & MediaOrder;

/** Clock skew allowed between the upstream's `created_at` and Temporal's schedule time. */
const RECONCILE_SLACK_MS = 5_000;

/**
 * On a retried attempt, the earlier attempt may have created the job before dying. The key
 * already makes honest upstreams return that job; for those that ignore keys, look it up first.
 */
async function reconcile(
  provider: VideoProvider,
  request: SubmitRequest,
  log: Logger,
): Promise<SubmitResult | undefined> {
  const info = Context.current().info;
  if (info.attempt === 1 || !provider.findJob) return undefined;
  const found = await provider.findJob(request, new Date(info.scheduledTimestampMs - RECONCILE_SLACK_MS));
  if (found === undefined) return undefined;
  const result = typeof found === 'string' ? { jobId: found } : found;
  log.warn(
    { jobId: result.jobId, uncertain: result.uncertain },
    'take reconciled with a job an earlier attempt created',
  );
  return result;
}

/** The take's character with its reference stills, made from its clip once. */
async function withStills({ clip, stills, ...character }: TakeRequestCharacter, dir: string): Promise<TakeCharacter> {
  // Library characters bring theirs (their images, or frames their workflow took from the clip).
  return { ...character, stills: stills ?? (clip ? await referenceStills(clip, dir) : []) };
}

export function takeActivities(deps: ActivityDeps) {
  const assetsDir = assetsDirOf(deps);
  const stillsDir = stillsDirOf(deps);
  mediaToolPath('ffprobe'); // a worker that cannot verify media says so at start, not at the first take

  /** The only spending step. Retried attempts reuse the idempotency key, so the upstream returns the same job. */
  async function submitTake(take: TakeRequest): Promise<SubmittedTake> {
    const provider = providerOf(deps, take.provider);
    const seconds = fitSeconds(provider.profile, take.seconds);
    const { provider: _provider, characters, ...fields } = take;
    const request: SubmitRequest = {
      ...fields,
      seconds,
      ...(characters ? { characters: await Promise.all(characters.map((c) => withStills(c, stillsDir))) } : {}),
    };
    const { jobId, uncertain } = await callProvider(
      async () =>
        (await reconcile(provider, request, activityLogger(deps, { provider: take.provider }))) ??
        (await provider.submit(request)),
    );
    const costUsd = takePriceUsd(provider.profile, seconds, take.size);
    const log = activityLogger(deps, { provider: take.provider, take: take.idempotencyKey });
    if (uncertain) log.warn({ jobId, costUsd, seconds, uncertain }, 'take submitted; it may have been paid twice');
    else log.info({ jobId, costUsd, seconds }, 'take submitted');
    return { jobId, costUsd, seconds, ...(uncertain ? { uncertain } : {}) };
  }

  /**
   * Waits for the upstream job in one long activity: each poll is a heartbeat, so history stays
   * constant whatever the generation time and a dead worker is noticed within the heartbeat timeout.
   */
  async function awaitJob(input: {
    provider: string;
    jobId: string;
    take?: number;
  }): Promise<{ progress: number; billedUsd?: number }> {
    const provider = providerOf(deps, input.provider);
    const context = Context.current();
    const log = activityLogger(deps, { provider: input.provider, jobId: input.jobId });
    for (;;) {
      const job = await callProvider(() => provider.getJob(input.jobId));
      context.heartbeat({ progress: job.progress, state: job.state });
      if (job.state === 'completed') {
        log.info({ billed: job.billed }, 'job completed');
        // What the upstream bills, where its contract says (seedance's token count): settles the estimate.
        return { progress: job.progress, ...(job.billed ? { billedUsd: job.billed.usd } : {}) };
      }
      if (job.state === 'failed') {
        const error = job.error ?? { kind: 'transient', code: 'unknown', message: 'job failed without a reason' };
        log.warn({ code: error.code, kind: error.kind }, 'job failed');
        recordProviderError(input.provider, error.kind);
        const type = error.kind === 'rejected' ? failureTypeOf.rejected : JOB_FAILED;
        throw ApplicationFailure.create({
          message: `${error.code}: ${error.message}`,
          type,
          nonRetryable: true,
          details: [{ kind: error.kind, code: error.code, provider: input.provider, jobId: input.jobId }],
        });
      }
      await context.sleep(deps.pollIntervalMs);
    }
  }

  /**
   * Downloads the finished video into content-addressed storage; bytes never cross Temporal payloads.
   * It is stored only once ffprobe has verified it against the order: a bad download is
   * `InvalidMedia`, fetched again by the retry policy, and after MEDIA_DOWNLOAD_ATTEMPTS given up
   * (non-retryable), so the scene makes a new take.
   */
  async function storeAsset(input: AssetRequest): Promise<StoredFile> {
    const context = Context.current();
    return storeJobAsset(providerOf(deps, input.provider), input, {
      assetsDir,
      heartbeat: () => context.heartbeat(),
      lastTry: context.info.attempt >= MEDIA_DOWNLOAD_ATTEMPTS,
      log: activityLogger(deps, { provider: input.provider, jobId: input.jobId }),
    });
  }

  return { submitTake, awaitJob, storeAsset };
}
