import { transfers, upstream } from './activities';
import { mentionFor } from './prompt';
import type { CharacterPassport, CharacterSpec, ProviderProfile } from './types';

/**
 * The character passport at series start: adopted ids, a stored source clip, or a character
 * extracted from an earlier task. Other providers' references are created later, on demand.
 */
export async function buildPassport(spec: CharacterSpec, profiles: ProviderProfile[]): Promise<CharacterPassport> {
  const passport: CharacterPassport = { name: spec.name, description: spec.description, refs: {}, refused: {} };
  const source = spec.source;
  switch (source.kind) {
    case 'adopt':
      for (const [provider, id] of Object.entries(source.ids)) {
        const profile = profiles.find((p) => p.name === provider);
        if (profile) passport.refs[provider] = { id, mention: mentionFor(profile.contract, id, spec.name) };
      }
      if (source.clipUrl) passport.sourceClip = await transfers.storeSourceClip({ url: source.clipUrl });
      break;
    case 'clip':
      passport.sourceClip = await transfers.storeSourceClip({ url: source.url });
      break;
    case 'extract': {
      const extracted = await upstream.extractCharacter({
        provider: source.provider,
        name: spec.name,
        taskId: source.taskId,
      });
      passport.refs[source.provider] = extracted.ref;
      passport.sourceClip = extracted.clip;
      break;
    }
  }
  return passport;
}
