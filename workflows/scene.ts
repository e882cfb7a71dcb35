import { condition, getExternalWorkflowHandle, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { upstream, transfers, waiting } from './activities';
import { describeFailure } from './failure-info';
import { characterNeededSignal, characterReadySignal, sceneStatusQuery, type CharacterAnswer, type SceneStatusView } from './messages';
import { renderPrompt } from './prompt';
import type { CharacterPassport, SceneResult, SceneSpec, TakeRecord } from './types';

export interface SceneInput {
  /** Parent series workflow id, asked for character references on fallback providers. */
  seriesWorkflowId: string;
  scene: SceneSpec;
  /** Ordered provider chain chosen by routing. */
  chain: string[];
  passport: CharacterPassport;
  /** Takes tried on one provider before moving to the next (stuck or failed jobs). */
  takesPerProvider?: number;
  /** A job not finished by then is given up and becomes a new take. */
  jobDeadlineSeconds?: number;
}

/**
 * One scene: for each provider of the chain, submit a take (the only spending step), await
 * the job, store the asset. Unavailable providers move the scene on; rejected content stops
 * it with the reason, never retried blindly.
 */
export async function sceneWorkflow(input: SceneInput): Promise<SceneResult> {
  const { scene } = input;
  const passport: CharacterPassport = { ...input.passport, refs: { ...input.passport.refs }, refused: { ...input.passport.refused } };
  const takes: TakeRecord[] = [];
  const providersDown: string[] = [];
  const answers: Record<string, CharacterAnswer> = {};
  const view: SceneStatusView = { index: scene.index, take: 0, phase: 'routing' };
  const { awaitJob } = waiting(input.jobDeadlineSeconds ?? 1800);

  setHandler(sceneStatusQuery, () => view);
  setHandler(characterReadySignal, (answer) => {
    answers[answer.provider] = answer;
  });

  const result = (status: SceneResult['status'], extra: Partial<SceneResult> = {}): SceneResult => ({
    index: scene.index,
    status,
    costUsd: takes.reduce((sum, t) => sum + t.costUsd, 0),
    takes,
    ...(providersDown.length ? { providersDown } : {}),
    ...extra,
  });

  for (const provider of input.chain) {
    view.provider = provider;
    if (!(provider in passport.refs) && !(provider in passport.refused)) {
      view.phase = 'waiting_for_character';
      const answer = await askSeriesForCharacter(input.seriesWorkflowId, provider, answers);
      if ('unavailable' in answer) {
        providersDown.push(provider);
        continue;
      }
      if ('ref' in answer) passport.refs[provider] = answer.ref;
      else passport.refused[provider] = answer.refused;
    }
    const ref = passport.refs[provider];

    for (let attempt = 0; attempt < (input.takesPerProvider ?? 2); attempt++) {
      const take: TakeRecord = { take: takes.length + 1, provider, outcome: 'failed', costUsd: 0 };
      takes.push(take);
      view.take = take.take;
      view.phase = 'submitting';
      let submitted;
      try {
        submitted = await upstream.submitTake({
          provider,
          prompt: renderPrompt(scene.prompt, passport, provider),
          seconds: scene.seconds,
          size: scene.size,
          model: scene.model,
          characterId: ref?.id,
          idempotencyKey: `${workflowInfo().workflowId}/take-${take.take}`,
        });
      } catch (err) {
        const failure = describeFailure(err);
        take.reason = failure.message;
        if (failure.kind === 'rejected') {
          take.outcome = 'rejected';
          return result('rejected', { provider, reason: failure.message });
        }
        take.outcome = 'unavailable';
        if (failure.kind === 'unavailable') providersDown.push(provider);
        break; // this provider cannot take the scene now: next in the chain
      }
      take.jobId = submitted.jobId;

      view.phase = 'generating';
      try {
        await awaitJob({ provider, jobId: submitted.jobId });
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
        continue; // failed or stuck job: a new take
      }

      view.phase = 'storing';
      take.costUsd = submitted.costUsd; // generated, so paid for, whether or not we keep it
      let asset;
      try {
        asset = await transfers.storeAsset({ provider, jobId: submitted.jobId });
      } catch (err) {
        // Content gone (expired past every fresh URL the provider gives): regenerate as a new take.
        if (!patched('store-failure-new-take')) throw err;
        take.reason = `stored copy failed: ${describeFailure(err).message}`;
        continue;
      }
      take.outcome = 'completed';
      view.phase = 'done';
      return result('completed', {
        provider,
        continuity: ref ? 'kept' : 'degraded',
        assetPath: asset.path,
        sha256: asset.sha256,
      });
    }
  }
  view.phase = 'done';
  return result('failed', { reason: `no provider in [${input.chain.join(', ')}] could generate the scene` });
}

/** The series owns the passport: it creates each provider's character once and answers every scene. */
async function askSeriesForCharacter(
  seriesWorkflowId: string,
  provider: string,
  answers: Record<string, CharacterAnswer>,
): Promise<CharacterAnswer> {
  await getExternalWorkflowHandle(seriesWorkflowId).signal(characterNeededSignal, {
    provider,
    sceneWorkflowId: workflowInfo().workflowId,
  });
  await condition(() => provider in answers);
  return answers[provider];
}
