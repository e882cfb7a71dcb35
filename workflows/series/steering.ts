import { condition, log, patched, setHandler } from '@temporalio/workflow';
import { budgetView } from '../budget';
import {
  addScenesUpdate,
  appendScenesSignal,
  cancelSignal,
  endOfScenesSignal,
  pauseSignal,
  raiseBudgetUpdate,
  resumeSignal,
  retrySceneUpdate,
  reviewTakeUpdate,
  setRoutingUpdate,
  type NewScene,
} from '../messages';
import { resolveNewScene } from '../scene-rules';
import type { SceneSpec } from '../types';
import type { SeriesRun } from './state';
import { publishScenesTotal, type StatusBoard } from './status';
import {
  checkBudget,
  checkReview,
  checkRetry,
  checkRouting,
  refuseIfCancelled,
  refuseIfClosed,
  resolveAdded,
} from './steering-rules';

/** Patch: a message's effect applies in the step its validator ran in (runs without it always waited a step). */
const ONE_STEP = 'steering-in-one-step';

/**
 * Applies a message's effect once the series is prepared. Prepared, it applies at once, in the step
 * its validator ran in: the next message of the same workflow task is validated against it, and the
 * scheduling loop sees it before it can decide that the series is done. Otherwise it waits for the
 * preparation and `waited` tells the effect to check again what may have changed meanwhile; runs
 * without ONE_STEP took this path for every message, so on replay it checks only what they checked.
 */
function whenPrepared<T>(run: SeriesRun, apply: (waited: boolean) => T): T | Promise<T> {
  if (run.prepared && patched(ONE_STEP)) return apply(false);
  return afterPreparation(run, apply);
}

async function afterPreparation<T>(run: SeriesRun, apply: (waited: boolean) => T): Promise<T> {
  await condition(() => run.prepared);
  return apply(true);
}

/** The steering messages (messages.ts): thin handlers over the series' state and the rules it keeps. */
export function listenToSteering(run: SeriesRun, board: StatusBoard): void {
  setHandler(pauseSignal, (request) => {
    const { reason } = run.pause(request?.reason ?? 'paused by request');
    log.info('series paused', { reason });
    board.publish();
  });
  setHandler(resumeSignal, () => {
    if (run.resume()) log.info('series resumed');
    board.publish();
  });
  setHandler(cancelSignal, (request) => {
    const { reason } = run.cancel(request?.reason ?? 'cancelled by request');
    log.warn('series cancelled: no new submissions, running jobs finish', { reason });
  });
  setHandler(endOfScenesSignal, () => run.endScenes());
  setHandler(
    addScenesUpdate,
    // Resolved again here: a validator hands nothing over, and after a wait the indexes and capabilities are final only now.
    (scenes) =>
      whenPrepared(run, (waited) => {
        // A cancel that came while the series prepared refuses the scenes instead of taking indexes that never run.
        if (waited && run.state.cancelled && patched('add-scenes-after-cancel')) refuseIfCancelled(run, 'addScenes');
        return { indexes: append(run, resolveAdded(run, scenes)) };
      }),
    {
      validator: (scenes) => {
        refuseIfClosed(run, 'addScenes');
        resolveAdded(run, scenes);
      },
    },
  );
  setHandler(appendScenesSignal, (scenes) => whenPrepared(run, (waited) => appendSignalled(run, scenes, waited)));
  setHandler(
    retrySceneUpdate,
    (request) =>
      whenPrepared(run, (waited) => {
        if (waited) {
          refuseIfCancelled(run, 'retryScene');
          checkRetry(run, request);
        }
        run.queueRetry(request);
        return { index: request.index, queued: true as const };
      }),
    {
      validator: (request) => {
        refuseIfClosed(run, 'retryScene');
        checkRetry(run, request);
      },
    },
  );
  setHandler(
    reviewTakeUpdate,
    (request) => {
      const { index, take, verdict } = request;
      run.review(request);
      log.info('take reviewed', { index, take, verdict });
      board.publish();
      return { index, take, verdict };
    },
    { validator: (request) => checkReview(run, request) },
  );
  setHandler(
    setRoutingUpdate,
    ({ routing }) => {
      const previous = run.setRouting(routing);
      log.info('routing changed', { routing, previous });
      return { routing, previous };
    },
    { validator: checkRouting },
  );
  setHandler(
    raiseBudgetUpdate,
    ({ budgetUsd }) => {
      run.raiseBudget(budgetUsd);
      log.info('budget raised', { budgetUsd });
      return budgetView(run.ledger);
    },
    { validator: (request) => checkBudget(run, request) },
  );
}

function append(run: SeriesRun, scenes: SceneSpec[]): number[] {
  const indexes = run.appendScenes(scenes);
  publishScenesTotal(run);
  return indexes;
}

/**
 * A signal cannot be refused: valid scenes are appended, the others listed in status with why. After
 * a wait only a cancel can have closed the series (its scenes cannot finish while it prepares).
 */
function appendSignalled(run: SeriesRun, scenes: NewScene[], waited: boolean): void {
  const { cancelled } = run.state;
  const closed = cancelled
    ? 'the series is cancelled'
    : !waited && run.finishing
      ? 'the series has finished its scenes'
      : undefined;
  for (const scene of Array.isArray(scenes) ? scenes : [scenes]) {
    const one = resolveNewScene(scene, run.series.scenes.length + 1, run.sceneContext());
    if ('scene' in one && !closed) append(run, [one.scene]);
    else {
      const problem = 'problems' in one ? one.problems.join('; ') : closed!;
      run.refuseAppended(scene, problem);
      log.warn('appended scene refused', { problem });
    }
  }
}
