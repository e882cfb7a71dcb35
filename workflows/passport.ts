import { patched } from '@temporalio/workflow';
import { transfers, upstream } from './activities';
import { mentionFor } from './prompt';
import type { CharacterPassport, CharacterSpec, ProviderProfile } from './types';

/**
 * Extraction's download of a whole video runs on the transfers queue, heartbeating, while the
 * upstream call stays short; series that scheduled both in one upstream activity replay that.
 */
export const EXTRACT_CLIP_ON_TRANSFERS = 'extract-clip-on-transfers';

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
      const task = { provider: source.provider, taskId: source.taskId };
      if (patched(EXTRACT_CLIP_ON_TRANSFERS)) {
        passport.refs[source.provider] = await upstream.extractCharacterRef({ ...task, name: spec.name });
        passport.sourceClip = await transfers.storeTaskClip(task);
      } else {
        const extracted = await upstream.extractCharacter({ ...task, name: spec.name });
        passport.refs[source.provider] = extracted.ref;
        passport.sourceClip = extracted.clip;
      }
      break;
    }
  }
  return passport;
}
