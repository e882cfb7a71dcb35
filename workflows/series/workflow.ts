import { workflowInfo } from '@temporalio/workflow';
import type { SeriesInput, SeriesResult } from '../types';
import { openTakeBudgetGate } from './budget-gate';
import { CastRefs } from './cast';
import { CharacterRefs } from './characters';
import { circuitCooldownMs, Routes } from './routes';
import { scheduleScenes } from './scheduling';
import { SharedSlots } from './slots';
import { SeriesRun, type SeriesState } from './state';
import { StatusBoard } from './status';
import { listenToSteering } from './steering';

export type { SeriesState } from './state';

/**
 * A series: ensure the character, run every scene as a child in a sliding window bounded by
 * provider concurrency and the budget, route around providers found down, obey the messages
 * people and services send (messages.ts), and end with a manifest.
 */
export async function seriesWorkflow(input: SeriesInput, carried?: SeriesState): Promise<SeriesResult> {
  const selfId = workflowInfo().workflowId;
  const run = new SeriesRun(input, carried);
  const routes = new Routes(run, circuitCooldownMs(input));
  const board = new StatusBoard(run, routes);
  const cast = new CastRefs(run, routes, selfId);
  const characters = new CharacterRefs(run, routes, cast);
  const slots = new SharedSlots(run, selfId);
  // Every handler is registered before the first await: messages may arrive with the start.
  board.listen();
  characters.listen();
  cast.listen();
  listenToSteering(run, board);
  openTakeBudgetGate(run, board);
  slots.listen();
  return scheduleScenes({ run, routes, characters, cast, slots, board, selfId });
}
