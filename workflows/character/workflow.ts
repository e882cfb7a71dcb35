import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  characterQuery,
  defineCharacterUpdate,
  ensureHandleUpdate,
  handleAnswerSignal,
  handleNeededSignal,
  handleRevokedSignal,
  retireCharacterUpdate,
  seriesJoinedSignal,
  seriesLeftSignal,
} from '../messages';
import { tell } from '../series/tell';
import { CharacterEntity } from './entity';
import type { CharacterDefinition, CharacterRecord, CharacterView } from './record';

export interface CharacterInput {
  definition: CharacterDefinition;
  /** Continue as new past this many events (default 2000; Temporal suggests it far later). */
  historyLimit?: number;
}

const HISTORY_LIMIT = 2000;

/**
 * One library character, `character/<name>`, for as long as it is not retired: its source stored
 * once, one handle per provider made lazily and exactly once however many series ask at the same
 * moment (series and scenes ask by signal, since workflows cannot send updates), made again when
 * a provider revokes it, and the series that use it. Continues as new when its history grows.
 */
export async function characterWorkflow(input: CharacterInput, carried?: CharacterRecord): Promise<CharacterView> {
  const entity = new CharacterEntity(input.definition, carried);
  // Every handler before the first await: the defining update comes with the start.
  setHandler(characterQuery, () => entity.view());
  setHandler(defineCharacterUpdate, (definition) => entity.define(definition));
  setHandler(ensureHandleUpdate, ({ provider }) => entity.handleOn(provider));
  setHandler(retireCharacterUpdate, () => entity.retire());
  setHandler(seriesJoinedSignal, ({ seriesId }) => entity.joined(seriesId));
  setHandler(seriesLeftSignal, ({ seriesId }) => entity.left(seriesId));
  setHandler(handleNeededSignal, async ({ provider, replyTo }) => {
    await tell(replyTo, handleAnswerSignal, await entity.answer(provider, replyTo));
  });
  setHandler(handleRevokedSignal, async ({ provider, replyTo, handleId, reason }) => {
    await entity.revoked(provider, handleId, reason, replyTo);
    await tell(replyTo, handleAnswerSignal, await entity.answer(provider, replyTo));
  });

  await entity.prepare();
  const { record } = entity;
  const full = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.historyLimit ?? HISTORY_LIMIT);
  await condition(() => !!record.retired || !!record.invalid || full());
  // Handlers that wait on a creation finish first: an asker is never left without an answer.
  await condition(() => entity.idle() && allHandlersFinished());
  if (record.retired || record.invalid) return entity.view();
  return continueAsNew<typeof characterWorkflow>(input, record);
}
