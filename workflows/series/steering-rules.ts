import type { BudgetRequest, NewScene, RetryRequest, ReviewRequest, RoutingRequest } from '../messages';
import { resolveNewScene, resolveNewScenes, reviewNoteProblems, scenePromptProblems } from '../scene-rules';
import { ROUTING_POLICIES } from '../routing';
import type { SceneSpec } from '../types';
import { refuse, Refusal } from './refusals';
import type { SeriesRun } from './state';

/**
 * What each steering message needs from the series' state to be accepted: the validators run these
 * checks, and a handler that had to wait runs them again. Each refuses with an ApplicationFailure.
 */

export function refuseIfCancelled(run: SeriesRun, what: string): void {
  const { cancelled } = run.state;
  if (cancelled)
    refuse(Refusal.closed, `${what}: the series is cancelled (${cancelled.reason}); start a new series instead`);
}

/** Cancelled, or the scheduling loop has stopped: new work would never start. */
export function refuseIfClosed(run: SeriesRun, what: string): void {
  refuseIfCancelled(run, what);
  if (run.finishing)
    refuse(Refusal.closed, `${what}: the series has finished its scenes and is ending; start a new series for more`);
}

/** The scenes with the series' defaults and the next indexes, or refused (`scenes[i].field: ...`). */
export function resolveAdded(run: SeriesRun, scenes: NewScene[]): SceneSpec[] {
  const resolved = resolveNewScenes(scenes, run.series.scenes.length + 1, run.sceneContext());
  if ('problems' in resolved) refuse(Refusal.invalidScenes, resolved.problems);
  return resolved.scenes;
}

export function checkRetry(run: SeriesRun, request: RetryRequest): void {
  const scene = run.sceneOf(request?.index);
  if (!scene)
    refuse(Refusal.unknownScene, `index: no scene ${request?.index}; scenes are 1..${run.series.scenes.length}`);
  if (run.unfinished(scene.index)) {
    refuse(
      Refusal.sceneNotFinished,
      `index: scene ${scene.index} has not finished (running or queued); retry it once it has a result`,
    );
  }
  if (request.prompt !== undefined) {
    const problems = scenePromptProblems(request.prompt, run.sceneContext().cast);
    if (problems.length) refuse(Refusal.invalidRetry, problems);
  }
  if (request.provider !== undefined) {
    const resolved = resolveNewScene(
      { prompt: request.prompt ?? scene.prompt, seconds: scene.seconds, size: scene.size, provider: request.provider },
      scene.index,
      run.sceneContext(),
    );
    if ('problems' in resolved) refuse(Refusal.invalidRetry, resolved.problems);
  }
}

export function checkReview(run: SeriesRun, request: ReviewRequest): void {
  if (run.ended)
    refuse(
      Refusal.closed,
      `reviewTake: the series has ended (${run.ended}) and its manifest is final; reviews no longer change it`,
    );
  if (request?.verdict !== 'approve' && request?.verdict !== 'reject')
    refuse(Refusal.invalidReview, 'verdict: must be "approve" or "reject"');
  const scene = run.resultOf(request.index);
  if (!scene)
    refuse(Refusal.invalidReview, `index: scene ${request.index} has no finished take yet; review it once it has one`);
  const take = scene.takes.find((t) => t.take === request.take);
  if (!take) {
    refuse(
      Refusal.invalidReview,
      `take: scene ${request.index} has takes ${scene.takes.map((t) => t.take).join(', ')}; name one of them`,
    );
  }
  if (take.outcome !== 'completed' || !take.assetPath) {
    refuse(
      Refusal.invalidReview,
      `take: take ${request.take} of scene ${request.index} ended ${take.outcome}; only completed takes can be reviewed`,
    );
  }
  const noteProblems = reviewNoteProblems(request.note);
  if (noteProblems.length) refuse(Refusal.invalidReview, noteProblems);
}

export function checkRouting(request: RoutingRequest): void {
  if (!ROUTING_POLICIES.includes(request?.routing)) {
    refuse(
      Refusal.invalidRouting,
      `routing: must be one of ${ROUTING_POLICIES.join(', ')}, got ${JSON.stringify(request?.routing)}`,
    );
  }
}

export function checkBudget(run: SeriesRun, request: BudgetRequest): void {
  refuseIfCancelled(run, 'raiseBudget');
  const usd = request?.budgetUsd;
  if (typeof usd !== 'number' || !Number.isFinite(usd) || usd <= 0)
    refuse(Refusal.invalidBudget, `budgetUsd: must be a number of USD above 0, got ${JSON.stringify(usd)}`);
  const { budgetUsd } = run.ledger;
  if (budgetUsd !== undefined && usd <= budgetUsd) {
    refuse(
      Refusal.invalidBudget,
      `budgetUsd: must be more than the current budget $${budgetUsd}; a budget is only raised (cancel to stop spending)`,
    );
  }
}
