import { executeChild, patched } from '@temporalio/workflow';
import { describeFailure } from '../failure-info';
import { sceneSlotKey, sceneWorkflowId } from '../ids';
import { sceneWorkflow } from '../scene';
import { Characters, SceneIndex, SeriesId } from '../search-attributes';
import type { SceneResult } from '../types';
import type { CastRefs } from './cast';
import type { CharacterRefs } from './characters';
import type { Routes } from './routes';
import type { SharedSlots, SlotAnswer } from './slots';
import type { SeriesRun, Work } from './state';
import { publishProgress, type StatusBoard } from './status';

/** Patch: a retake's result is merged into the scene's record as a review during the retake left it (runs without it lost the retake). */
const RETAKE_AFTER_REVIEW = 'retake-merges-reviewed-record';

export interface SceneRunnerParts {
  run: SeriesRun;
  routes: Routes;
  characters: CharacterRefs;
  cast: CastRefs;
  slots: SharedSlots;
  board: StatusBoard;
  selfId: string;
}

/**
 * Runs one scene as a child workflow, from its character and slot to its settled result: routed at
 * start, holding `heldUsd` (its first take's price) until it settles.
 */
export async function runScene(parts: SceneRunnerParts, { scene, retake }: Work, heldUsd: number): Promise<void> {
  const { run, routes, characters, cast, slots, board, selfId } = parts;
  run.start(scene.index, heldUsd);
  const previous = retake ? run.resultOf(scene.index) : undefined;
  let result: SceneResult;
  let slot: SlotAnswer = 'unshared';
  let chain: string[] = [];
  try {
    chain = routes.route(scene);
    const members = cast.inScene(scene);
    if (run.series.cast) {
      // The head provider's handles before the slot: a scene waits for its characters, not a slot-holder.
      if (chain[0] && members.some((m) => !cast.passport(m)?.refs[chain[0]])) {
        await Promise.all(members.map((m) => cast.on(m, chain[0])));
        chain = routes.route(scene);
      }
    } else if (chain[0] && !(chain[0] in run.state.passport.refs)) {
      await characters.on(chain[0]);
      chain = routes.route(scene); // the head may have just been found down
    }
    const prices = Object.fromEntries(chain.map((p) => [p, routes.priceOn(p, scene)]));
    slot = chain[0] ? await slots.acquire(chain[0], sceneSlotKey(scene.index)) : 'unshared';
    if (slot === 'cancelled') {
      // Cancelled before it could start: nothing was submitted, nothing to record.
      run.withdraw(scene.index);
      return;
    }
    // Scenes run outside the series' cancellation scope: a cancelled series lets running jobs finish.
    result = await executeChild(sceneWorkflow, {
      workflowId: sceneWorkflowId(selfId, scene.index),
      args: [
        {
          seriesWorkflowId: selfId,
          scene,
          chain,
          passport: run.state.passport,
          ...(run.series.cast
            ? {
                cast: members.map((m) => ({ token: `@${m}`, passport: cast.passport(m)! })),
                characterLimits: Object.fromEntries(chain.map((p) => [p, routes.characterLimitOn(p)])),
              }
            : {}),
          jobDeadlineSeconds: run.series.jobDeadlineSeconds,
          prices,
          grantedUsd: heldUsd,
          firstTake: (previous?.takes.length ?? 0) + 1,
        },
      ],
      typedSearchAttributes: [
        { key: SeriesId, value: selfId },
        { key: SceneIndex, value: scene.index },
        ...(run.series.cast ? [{ key: Characters, value: members }] : []),
      ],
      staticSummary: `${run.series.name} scene ${scene.index}${retake ? ' (retake)' : ''}: ${chain.join(' > ') || 'no provider'}`,
    });
  } catch (err) {
    // A child that fails must still report back, or the window would wait forever.
    result = {
      index: scene.index,
      ...(scene.id !== undefined ? { id: scene.id } : {}),
      status: 'failed',
      costUsd: 0,
      takes: [],
      reason: describeFailure(err).message,
    };
  }
  if (typeof slot === 'object') await slots.release(slot);
  for (const provider of result.providersDown ?? [])
    routes.openCircuit(provider, `scene ${scene.index}: ${lastReasonOn(result, provider)}`);
  const { providersDown: _down, ...settled } = result;
  if (previous) {
    const current = run.resultOf(scene.index)!;
    if (current === previous || patched(RETAKE_AFTER_REVIEW)) run.mergeRetake(current, settled);
  } else run.record(settled);
  run.finished(scene.index);
  publishProgress(run);
  board.publish();
}

function lastReasonOn(result: SceneResult, provider: string): string {
  return [...result.takes].reverse().find((t) => t.provider === provider)?.reason ?? 'unavailable';
}
