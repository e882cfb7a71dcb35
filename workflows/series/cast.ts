import { condition, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import type { HandleAnswer } from '../character/record';
import { describeFailure } from '../failure-info';
import { characterWorkflowId } from '../ids';
import {
  handleAnswerSignal,
  handleNeededSignal,
  handleRevokedSignal,
  seriesJoinedSignal,
  seriesLeftSignal,
  type CharacterAnswer,
} from '../messages';
import { mentionsOf } from '../scene-rules';
import type { CharacterPassport, SceneSpec } from '../types';
import type { Routes } from './routes';
import type { SeriesRun } from './state';
import { tell } from './tell';

const keyOf = (character: string, provider: string) => `${character}/${provider}`;

/**
 * The series' cast from the library: each character's handles as the library answers them. The
 * library makes each handle once for every series; here each (character, provider) is asked once
 * per series however many scenes need it at the same moment.
 */
export class CastRefs {
  private readonly pending: Record<string, Promise<CharacterAnswer>> = {};
  private readonly arrived: Record<string, HandleAnswer> = {};

  constructor(
    private readonly run: SeriesRun,
    private readonly routes: Routes,
    private readonly selfId: string,
  ) {}

  /** Registered before the first await, with the series' other handlers. */
  listen(): void {
    setHandler(handleAnswerSignal, (answer) => {
      this.arrived[keyOf(answer.character, answer.provider)] = answer;
    });
  }

  /** At the series' start: passports for the cast, and each character told that this series uses it. */
  async join(): Promise<void> {
    const { series, state } = this.run;
    state.cast ??= {};
    for (const member of series.cast ?? []) {
      state.cast[member.name] ??= { name: member.name, description: member.description, refs: {}, refused: {} };
      await tell(characterWorkflowId(member.name), seriesJoinedSignal, { seriesId: this.selfId });
    }
  }

  /** At its end: retirement waits for no series any more. */
  async leave(): Promise<void> {
    for (const member of this.run.series.cast ?? [])
      await tell(characterWorkflowId(member.name), seriesLeftSignal, { seriesId: this.selfId });
  }

  passport(character: string): CharacterPassport | undefined {
    return this.run.state.cast?.[character];
  }

  /** The cast members a scene mentions, in the order of the series' cast. */
  inScene(scene: SceneSpec): string[] {
    const mentioned = mentionsOf(scene.prompt);
    return (this.run.series.cast ?? []).map((c) => c.name).filter((n) => mentioned.includes(n));
  }

  on(character: string, provider: string): Promise<CharacterAnswer> {
    const passport = this.passport(character);
    if (!passport) return Promise.resolve({ character, provider, refused: `${character} is not in this series' cast` });
    if (passport.refs[provider]) return Promise.resolve({ character, provider, ref: passport.refs[provider] });
    if (passport.refused[provider])
      return Promise.resolve({ character, provider, refused: passport.refused[provider] });
    const key = keyOf(character, provider);
    this.pending[key] ??= this.ask(character, provider, (replyTo) =>
      getExternalWorkflowHandle(characterWorkflowId(character)).signal(handleNeededSignal, { provider, replyTo }),
    );
    return this.pending[key];
  }

  /** The provider revoked `handleId`: the library makes it again (once, whoever reports it). */
  revoked(character: string, provider: string, handleId: string, reason: string): Promise<CharacterAnswer> {
    const passport = this.passport(character);
    const key = keyOf(character, provider);
    if (passport?.refs[provider]?.id !== handleId) return this.on(character, provider); // already made again
    delete passport.refs[provider];
    this.pending[key] = this.ask(character, provider, (replyTo) =>
      getExternalWorkflowHandle(characterWorkflowId(character)).signal(handleRevokedSignal, {
        provider,
        replyTo,
        handleId,
        reason,
      }),
    );
    return this.pending[key];
  }

  private async ask(
    character: string,
    provider: string,
    send: (replyTo: string) => Promise<void>,
  ): Promise<CharacterAnswer> {
    const key = keyOf(character, provider);
    try {
      await send(this.selfId);
    } catch (err) {
      // Its workflow ended (retired, terminated): no handle will come from it.
      delete this.pending[key];
      return {
        character,
        provider,
        refused: `${character} is not in the library any more (${describeFailure(err).message})`,
      };
    }
    await condition(() => key in this.arrived);
    const answer = this.arrived[key];
    delete this.arrived[key];
    return this.settle(answer);
  }

  /** Keeps what the library answered; an unavailable provider is asked again later, and its circuit opens. */
  private settle(answer: HandleAnswer): CharacterAnswer {
    const { character, provider } = answer;
    const passport = this.passport(character)!;
    passport.description = answer.description;
    if (answer.sourceClip) passport.sourceClip = answer.sourceClip;
    passport.stills = answer.stills;
    if ('ref' in answer) {
      passport.refs[provider] = answer.ref;
      if (answer.madeFor === this.selfId && answer.costUsd)
        (this.run.state.castCostsUsd ??= {})[keyOf(character, provider)] = answer.costUsd;
      return { character, provider, ref: answer.ref };
    }
    delete this.pending[keyOf(character, provider)];
    if ('refused' in answer) {
      passport.refused[provider] = answer.refused;
      return { character, provider, refused: answer.refused };
    }
    this.routes.openCircuit(provider, `character ${character}: ${answer.unavailable}`);
    return { character, provider, unavailable: answer.unavailable };
  }
}
