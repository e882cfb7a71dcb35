import { unknownProviderProblems } from '../provider-rules';
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
} from '@temporalio/workflow';
import { upstream } from '../activities';
import { fits } from '../budget';
import { buildPassport } from '../passport';
import type { ProviderProfile, SeriesResult } from '../types';
import { finishSeries } from './finish';
import { runScene, type SceneRunnerParts } from './scene-runner';
import type { seriesWorkflow } from './workflow';

/** Started children per run before continuing as new: about 12 events each keeps a run far under 10,000. */
const SCENES_PER_RUN = 200;

/**
 * The series' main line: prepare the profiles and the character, start scenes in a sliding window
 * bounded by provider concurrency and the budget, continue as new every `scenesPerRun` scenes, and
 * finish once nothing is left to start or wait for (or the series is cancelled).
 */
export async function scheduleScenes(parts: SceneRunnerParts): Promise<SeriesResult> {
  const { run, routes, board } = parts;
  const { series, state, ledger, running } = run;
  if (!run.prepared) {
    state.profiles = selectProfiles(await upstream.listProviderProfiles(), series.providers);
    // The one-character form builds its own passport; a cast's handles come from the library.
    if (series.character) state.passport = await buildPassport(series.character, state.profiles);
    else await parts.cast.join();
    run.prepared = true;
  }

  let startedThisRun = 0;
  /** Set when Temporal itself cancelled the series: it ends Cancelled (after the graceful part). */
  let cancellation: unknown;
  try {
    for (;;) {
      board.publish();
      await condition(() => !!state.cancelled || run.hasWork() || (running.size === 0 && !run.waitingForMore()));
      if (state.cancelled || !run.hasWork()) break;
      if (startedThisRun >= (series.scenesPerRun ?? SCENES_PER_RUN)) {
        await condition(() => running.size === 0);
        await parts.slots.close();
        await condition(allHandlersFinished);
        return continueAsNew<typeof seriesWorkflow>(series, state);
      }
      await condition(() => !!state.cancelled || (running.size < routes.window() && !state.paused));
      if (state.cancelled) break;
      const work = run.peekWork()!;
      if (!fits(ledger, work.scene.index, routes.headPrice(work))) {
        const what = `scene ${work.scene.index}`;
        board.waitForBudget(what, routes.headPrice(work));
        await condition(
          () =>
            !!state.cancelled ||
            fits(ledger, work.scene.index, routes.headPrice(work)) ||
            run.peekWork()?.scene.index !== work.scene.index,
        );
        board.budgetWaitOver(what);
        continue; // re-check everything: cancelled, paused, window, or other work first
      }
      run.takeWork(work);
      void CancellationScope.nonCancellable(() => runScene(parts, work, routes.headPrice(work)));
      startedThisRun++;
    }
  } catch (err) {
    // Cancelled from Temporal (Web UI, CLI): the same graceful cancel as the message.
    if (!isCancellation(err)) throw err;
    cancellation = err;
    const { reason } = run.cancel('workflow cancellation requested');
    log.warn('series cancelled: no new submissions, running jobs finish', { reason });
  }
  // In the same step as the loop's last check: a message validated from now on is refused.
  run.finishing = true;
  await parts.slots.close();
  return finishSeries(run, cancellation, parts.cast);
}

/** Keeps the providers the spec allows, in the spec's order; a name the worker lacks is a bad spec. */
function selectProfiles(available: ProviderProfile[], wanted: string[]): ProviderProfile[] {
  const problems = unknownProviderProblems(
    wanted,
    available.map((p) => p.name),
  );
  // Fails the series (not the workflow task): no retry can make a missing provider appear.
  if (problems.length)
    throw ApplicationFailure.create({ type: 'UnknownProvider', nonRetryable: true, message: problems.join('; ') });
  return wanted.map((name) => available.find((p) => p.name === name)!);
}
