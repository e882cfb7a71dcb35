import { setHandler } from '@temporalio/workflow';
import { upstream } from '../activities';
import { describeFailure } from '../failure-info';
import { characterNeededSignal, characterReadySignal, characterRevokedSignal, type CharacterAnswer } from '../messages';
import type { CastRefs } from './cast';
import type { CharacterPassport } from '../types';
import type { Routes } from './routes';
import type { SeriesRun } from './state';
import { tell } from './tell';

/** The series' character on each provider, created once however many scenes ask at the same moment. */
export class CharacterRefs {
  private readonly pending: Record<string, Promise<CharacterAnswer>> = {};

  constructor(
    private readonly run: SeriesRun,
    private readonly routes: Routes,
    private readonly cast?: CastRefs,
  ) {}

  on(provider: string): Promise<CharacterAnswer> {
    // An unavailable answer is not kept: after the cooldown the provider may be asked again.
    this.pending[provider] ??= ensureCharacterRef(this.run.state.passport, provider, (p, reason) =>
      this.routes.openCircuit(p, reason),
    ).then((answer) => {
      if ('unavailable' in answer) delete this.pending[provider];
      return answer;
    });
    return this.pending[provider];
  }

  /** Scenes falling back to another provider ask for the character there (signal characterNeeded). */
  listen(): void {
    setHandler(characterNeededSignal, async ({ provider, sceneWorkflowId, character }) => {
      const answer = character && this.cast ? await this.cast.on(character, provider) : await this.on(provider);
      await tell(sceneWorkflowId, characterReadySignal, answer);
    });
    // Library characters only: the one-character form's handles are the series' own.
    setHandler(characterRevokedSignal, async ({ provider, character, handleId, reason, sceneWorkflowId }) => {
      const answer = this.cast
        ? await this.cast.revoked(character, provider, handleId, reason)
        : { character, provider, refused: 'this series has no library characters' };
      await tell(sceneWorkflowId, characterReadySignal, answer);
    });
  }
}

async function ensureCharacterRef(
  passport: CharacterPassport,
  provider: string,
  openCircuit: (provider: string, reason: string) => void,
): Promise<CharacterAnswer> {
  if (passport.refs[provider]) return { provider, ref: passport.refs[provider] };
  if (passport.refused[provider]) return { provider, refused: passport.refused[provider] };
  if (!passport.sourceClip) {
    passport.refused[provider] = 'no source clip to create the character from';
    return { provider, refused: passport.refused[provider] };
  }
  try {
    const created = await upstream.createCharacterRef({
      provider,
      name: passport.name,
      description: passport.description,
      clip: passport.sourceClip,
    });
    if ('ref' in created) passport.refs[provider] = created.ref;
    else passport.refused[provider] = created.refused;
    return { provider, ...created };
  } catch (err) {
    const reason = describeFailure(err).message;
    openCircuit(provider, `character creation: ${reason}`);
    return { provider, unavailable: reason };
  }
}
