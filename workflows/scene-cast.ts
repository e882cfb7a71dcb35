/**
 * The scene's side of its characters: asking the series for handles (and again when one is
 * revoked), and how a take held each one. Workflow code: runs inside sceneWorkflow.
 */
import { condition, getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import type { FailureInfo } from './failure-info';
import { CHARACTER_REVOKED_CODES } from './failures';
import { characterNeededSignal, characterRevokedSignal, type CharacterAnswer } from './messages';
import { continuityOf } from './prompt';
import type { CharacterPassport, Continuity, SceneResult } from './types';

/** One character of the scene: the one-character form's (`@character`), or a library character. */
export interface Member {
  token: string;
  passport: CharacterPassport;
  /** A library character: asked for by name, and its revoked handles are made again. */
  library: boolean;
}

export const copyPassport = (p: CharacterPassport): CharacterPassport => ({
  ...p,
  refs: { ...p.refs },
  refused: { ...p.refused },
});
export const answerKey = (provider: string, character?: string) => (character ? `${character}|${provider}` : provider);
const WEAKEST_FIRST: Continuity[] = ['degraded', 'referenced', 'kept'];

/** The series owns the passport: it creates each provider's character once and answers every scene. */
export async function askSeriesForCharacter(
  seriesWorkflowId: string,
  provider: string,
  answers: Record<string, CharacterAnswer>,
  character?: string,
): Promise<CharacterAnswer> {
  const key = answerKey(provider, character);
  await getExternalWorkflowHandle(seriesWorkflowId).signal(characterNeededSignal, {
    provider,
    sceneWorkflowId: workflowInfo().workflowId,
    ...(character ? { character } : {}),
  });
  await condition(() => key in answers);
  return answers[key];
}

/** The library characters whose handle on `provider` the failure says is revoked (by its id, else every one held there). */
export function revokedMembers(members: Member[], provider: string, failure: FailureInfo): Member[] {
  if (!failure.code || !CHARACTER_REVOKED_CODES.includes(failure.code)) return [];
  const held = members.filter((m) => m.library && m.passport.refs[provider]);
  const named = held.filter((m) => failure.message.includes(m.passport.refs[provider].id));
  return named.length ? named : held;
}

/** Asks the series (and so the library) for each revoked handle again; true when every one came back. */
export async function askSeriesToRemake(
  seriesWorkflowId: string,
  provider: string,
  answers: Record<string, CharacterAnswer>,
  revoked: Member[],
  reason: string,
): Promise<boolean> {
  let all = true;
  for (const { passport } of revoked) {
    const key = answerKey(provider, passport.name);
    delete answers[key];
    await getExternalWorkflowHandle(seriesWorkflowId).signal(characterRevokedSignal, {
      provider,
      character: passport.name,
      handleId: passport.refs[provider].id,
      reason,
      sceneWorkflowId: workflowInfo().workflowId,
    });
    await condition(() => key in answers);
    const answer = answers[key];
    delete passport.refs[provider];
    if ('ref' in answer) passport.refs[provider] = answer.ref;
    else {
      if ('refused' in answer) passport.refused[provider] = answer.refused;
      all = false;
    }
  }
  return all;
}

/**
 * How the take held its characters: each by its handle (the first `limit` held ones: a provider
 * renders the rest from their descriptions), else degraded; the one-character form reports one.
 */
export function continuityIn(
  members: Member[],
  provider: string,
  limit = Infinity,
): Pick<SceneResult, 'continuity' | 'continuityByCharacter'> {
  if (!members[0]?.library) return { continuity: continuityOf(members[0]?.passport.refs[provider]) };
  const byCharacter: Record<string, Continuity> = {};
  let held = 0;
  for (const { passport } of members) {
    const ref = passport.refs[provider];
    byCharacter[passport.name] = ref && held++ < limit ? continuityOf(ref) : 'degraded';
  }
  const levels = Object.values(byCharacter);
  const weakest = WEAKEST_FIRST.find((c) => levels.includes(c));
  return { ...(weakest ? { continuity: weakest } : {}), continuityByCharacter: byCharacter };
}
