// Over 300 lines on purpose: one scene's take loop (budget ask, submit, wait, store, fallback) shares
// its state (takes, notices, view, budget) through closures; the cast and input rules already live in
// scene-cast.ts and scene-input.ts, and splitting the loop would pass that state around instead.
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { collecting, upstream, transfers, waiting } from './activities';
import { describeFailure } from './failure-info';
import { takeIdempotencyKey } from './ids';
import {
  characterReadySignal,
  jobFinishedSignal,
  sceneStatusQuery,
  takeBudgetAnswerSignal,
  takeBudgetAskSignal,
  type CharacterAnswer,
  type JobFinished,
  type SceneStatusView,
  type TakeBudgetAnswer,
} from './messages';
import { recordFallback, recordSceneEnd, recordTake } from './metrics';
import { roundUsd } from './pricing';
import { CHARACTER_TOKEN } from './prompt';
import { SceneJobIds } from './search-attributes';
import type { SceneResult, TakeRecord } from './types';
import { uncertainOfTakes, uncertainSubmissionOf } from './uncertain-submissions';
import type { SceneInput } from './scene-input';
import {
  answerKey,
  askSeriesForCharacter,
  askSeriesToRemake,
  continuityIn,
  copyPassport,
  revokedMembers,
  type Member,
} from './scene-cast';
import type { MediaOrder } from '../activities/media-check';
import type { StoredFile } from '../activities/storage';

/** Patch: a job is awaited by server-retried checks that also store its video (activities/job-collect.ts). */
const JOB_COLLECT = 'scene-job-collect';

/** Patch: a take whose submit may have been billed without a job (or twice) says so, and counts as possibly paid. */
const UNCERTAIN_TAKES = 'scene-uncertain-submissions';
/** Patch: a finished take costs what the provider billed for it, where the contract tells (seedance's tokens). */
const BILLED_COST = 'scene-settles-billed-cost';

/**
 * One scene: for each provider of the chain, submit a take (the only spending step), await
 * the job, store the asset. Unavailable providers move the scene on; rejected content stops
 * it with the reason, never retried blindly. Every take after the first asks the series for
 * money first, so pause, cancel and the budget hold inside a scene too.
 */
export async function sceneWorkflow(input: SceneInput): Promise<SceneResult> {
  const { scene } = input;
  const members: Member[] = input.cast
    ? input.cast.map((c) => ({ token: c.token, passport: copyPassport(c.passport), library: true }))
    : [{ token: CHARACTER_TOKEN, passport: copyPassport(input.passport), library: false }];
  /** Providers where a revoked handle was already made again for this scene: once each. */
  const remadeOn = new Set<string>();
  const takes: TakeRecord[] = [];
  const providersDown: string[] = [];
  const answers: Record<string, CharacterAnswer> = {};
  const notices: Record<string, JobFinished> = {};
  const budget: { granted: number; answer?: TakeBudgetAnswer } = { granted: input.grantedUsd ?? Infinity };
  const sceneId = scene.id !== undefined ? { id: scene.id } : {};
  const view: SceneStatusView = { index: scene.index, ...sceneId, take: 0, phase: 'routing' };
  const jobDeadlineSeconds = input.jobDeadlineSeconds ?? 1800;
  const { awaitJob } = waiting(jobDeadlineSeconds);
  const { collectJob } = collecting(jobDeadlineSeconds);
  // One patch guards all of steering's behaviour (budget asks, job ids, job notices): each
  // patch id costs a marker and a search attribute upsert in every scene's history.
  const steering = patched('scene-steering');

  setHandler(sceneStatusQuery, () => view);
  setHandler(characterReadySignal, (answer) => {
    answers[answerKey(answer.provider, answer.character)] = answer;
  });
  setHandler(takeBudgetAnswerSignal, (answer) => {
    budget.answer = answer;
  });
  setHandler(jobFinishedSignal, (notice) => {
    notices[notice.jobId] = notice;
  });

  const spent = () => roundUsd(takes.reduce((sum, t) => sum + t.costUsd, 0));
  /** What the scene may have paid: its cost plus its uncertain submissions' prices (never overspend for them). */
  const committed = () => roundUsd(spent() + uncertainOfTakes(takes).usd);
  const result = (status: SceneResult['status'], extra: Partial<SceneResult> = {}): SceneResult => {
    const ended: SceneResult = {
      index: scene.index,
      ...sceneId,
      status,
      costUsd: spent(),
      takes,
      ...(providersDown.length ? { providersDown } : {}),
      ...extra,
    };
    takes.forEach(recordTake); // outcomes and costs are final only now
    recordSceneEnd(ended);
    return ended;
  };
  let lastTried: string | undefined;

  /** Money for the next take: the series grants it in order, holds it while paused or over budget, refuses it once cancelled. */
  const mayTake = async (provider: string): Promise<TakeBudgetAnswer> => {
    const commitUsd = roundUsd(committed() + (input.prices?.[provider] ?? 0));
    if (takes.length === 0 && commitUsd <= budget.granted) return { granted: true };
    if (!input.prices || !steering) return { granted: true };
    view.phase = 'waiting_for_budget';
    budget.answer = undefined;
    const uncertain = uncertainOfTakes(takes);
    await getExternalWorkflowHandle(input.seriesWorkflowId).signal(takeBudgetAskSignal, {
      sceneWorkflowId: workflowInfo().workflowId,
      index: scene.index,
      provider,
      commitUsd,
      ...(uncertain.count ? { uncertain } : {}),
    });
    await condition(() => budget.answer !== undefined);
    if (budget.answer!.granted) budget.granted = commitUsd;
    return budget.answer!;
  };

  /**
   * Waits for the job: a verified webhook (jobFinished) ends the wait at once, checks stay the
   * safety net. `asset` is the stored video when the wait stored it too (JOB_COLLECT: checks by
   * server-retried attempts, the last one downloads); `billedUsd` what the upstream billed, if it says.
   */
  const waitForJob = async (
    provider: string,
    jobId: string,
    order: MediaOrder,
  ): Promise<{ asset?: StoredFile; billedUsd?: number }> => {
    const job = { provider, jobId, take: view.take };
    if (!steering) return (await awaitJob(job)) ?? {};
    const collects = patched(JOB_COLLECT);
    const collect = (checkNow: boolean) =>
      collectJob.executeWithOptions({ summary: `collect ${jobId} from ${provider}` }, [
        { ...job, ...order, deadlineSeconds: jobDeadlineSeconds, ...(checkNow ? { checkNow } : {}) },
      ]);
    const polling = new CancellationScope();
    const polled = polling.run<{ asset?: StoredFile; billedUsd?: number } | undefined>(() =>
      collects ? collect(false) : awaitJob.executeWithOptions({ summary: `await ${jobId} on ${provider}` }, [job]),
    );
    const first = await Promise.race([
      polled.then(() => 'polled' as const),
      condition(() => jobId in notices).then(() => 'notice' as const),
    ]);
    if (first === 'polled') return (await polled) ?? {};
    polling.cancel();
    polled.catch(() => undefined); // the cancelled poll's failure is expected
    // A failure notice names no reason, a hint proves nothing: a read of the job gets the outcome from the source.
    if (notices[jobId].event !== 'completed') return (await (collects ? collect(true) : awaitJob(job))) ?? {};
    return {};
  };

  for (const provider of input.chain) {
    if (lastTried) recordFallback(lastTried, provider);
    lastTried = provider;
    view.provider = provider;
    let down = false;
    for (const { passport, library } of members) {
      if (provider in passport.refs || provider in passport.refused) continue;
      view.phase = 'waiting_for_character';
      const answer = await askSeriesForCharacter(
        input.seriesWorkflowId,
        provider,
        answers,
        library ? passport.name : undefined,
      );
      if ('unavailable' in answer) {
        down = true;
        break;
      }
      if ('ref' in answer) passport.refs[provider] = answer.ref;
      else passport.refused[provider] = answer.refused;
    }
    if (down) {
      providersDown.push(provider);
      continue;
    }

    for (let attempt = 0; attempt < (input.takesPerProvider ?? 2); attempt++) {
      const allowed = await mayTake(provider);
      if (!allowed.granted) {
        view.phase = 'done';
        return result('cancelled', { reason: allowed.reason });
      }
      const take: TakeRecord = { take: (input.firstTake ?? 1) + takes.length, provider, outcome: 'failed', costUsd: 0 };
      takes.push(take);
      view.take = take.take;
      view.phase = 'submitting';
      view.jobId = undefined;
      let submitted;
      try {
        submitted = await upstream.submitTake.executeWithOptions({ summary: `take ${take.take} on ${provider}` }, [
          {
            provider,
            prompt: scene.prompt,
            characters: members.map(({ token, passport }) => ({
              token,
              name: passport.name,
              description: passport.description,
              ...(passport.refs[provider] ? { ref: passport.refs[provider] } : {}),
              ...(passport.sourceClip ? { clip: passport.sourceClip } : {}),
              ...(passport.stills ? { stills: passport.stills } : {}),
            })),
            seconds: scene.seconds,
            size: scene.size,
            model: scene.model,
            idempotencyKey: takeIdempotencyKey(workflowInfo().workflowId, take.take),
          },
        ]);
      } catch (err) {
        const failure = describeFailure(err);
        take.reason = failure.message;
        const uncertain = uncertainSubmissionOf(err);
        if (uncertain && patched(UNCERTAIN_TAKES)) {
          take.uncertain = { ...uncertain, usd: input.prices?.[provider] ?? 0 };
          view.uncertain = uncertainOfTakes(takes);
        }
        if (failure.kind === 'rejected') {
          take.outcome = 'rejected';
          return result('rejected', { provider, reason: failure.message });
        }
        take.outcome = 'unavailable';
        const revoked = revokedMembers(members, provider, failure);
        if (revoked.length && !remadeOn.has(provider)) {
          // The provider revoked a library character's handle: the library makes it again once, and the take is retried.
          remadeOn.add(provider);
          view.phase = 'waiting_for_character';
          const remade = await askSeriesToRemake(input.seriesWorkflowId, provider, answers, revoked, failure.message);
          if (remade) {
            attempt--;
            continue;
          }
        }
        if (failure.kind === 'unavailable') providersDown.push(provider);
        break; // this provider cannot take the scene now: next in the chain
      }
      take.jobId = view.jobId = submitted.jobId;
      if (submitted.uncertain && patched(UNCERTAIN_TAKES)) {
        // Adopted by its parameters only: a task of its own may be billed besides the one it took.
        take.uncertain = { ...submitted.uncertain, usd: submitted.costUsd };
        view.uncertain = uncertainOfTakes(takes);
      }
      // The webhook gateway finds the waiting scene by its job ids.
      if (steering)
        upsertSearchAttributes([{ key: SceneJobIds, value: takes.flatMap((t) => (t.jobId ? [t.jobId] : [])) }]);

      view.phase = 'generating';
      const order = { seconds: submitted.seconds, size: scene.size };
      let billedUsd: number | undefined;
      let asset: StoredFile | undefined;
      try {
        ({ asset, billedUsd } = await waitForJob(provider, submitted.jobId, order));
      } catch (err) {
        const failure = describeFailure(err);
        take.reason = failure.message;
        if (failure.kind === 'rejected') {
          // Rejected during generation: billed by the upstream, reported, not retried blindly.
          take.outcome = 'rejected';
          take.costUsd = submitted.costUsd;
          return result('rejected', { provider, reason: failure.message });
        }
        if (failure.kind === 'unavailable') {
          take.outcome = 'unavailable';
          take.costUsd = submitted.costUsd; // accepted before the provider went away: billed, not delivered
          providersDown.push(provider);
          break;
        }
        if (failure.kind === 'timeout') take.costUsd = submitted.costUsd; // a stuck job was paid for
        if (failure.kind === 'store_failed') {
          take.costUsd = submitted.costUsd; // generated, so paid for
          take.reason = `stored copy failed: ${failure.message}`;
        }
        continue; // failed or stuck job, or its video could not be stored: a new take
      }

      take.costUsd = submitted.costUsd; // generated, so paid for, whether or not we keep it
      if (billedUsd !== undefined && billedUsd !== submitted.costUsd && patched(BILLED_COST)) take.costUsd = billedUsd;
      if (!asset) {
        view.phase = 'storing';
        try {
          asset = await transfers.storeAsset.executeWithOptions(
            { summary: `store ${submitted.jobId} from ${provider}` },
            // What was ordered, so the stored copy is verified against it (duration and aspect).
            [{ provider, jobId: submitted.jobId, take: take.take, ...order }],
          );
        } catch (err) {
          // Content gone (expired past every fresh URL the provider gives) or never valid (InvalidMedia): a new take.
          if (!patched('store-failure-new-take')) throw err;
          take.reason = `stored copy failed: ${describeFailure(err).message}`;
          continue;
        }
      }
      take.outcome = 'completed';
      take.assetPath = asset.path;
      take.sha256 = asset.sha256;
      view.phase = 'done';
      return result('completed', {
        provider,
        ...continuityIn(members, provider, input.characterLimits?.[provider]),
        assetPath: asset.path,
        sha256: asset.sha256,
      });
    }
  }
  view.phase = 'done';
  return result('failed', { reason: `no provider in [${input.chain.join(', ')}] could generate the scene` });
}
