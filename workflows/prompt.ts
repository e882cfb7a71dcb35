import type { CharacterRef, Continuity, ContractKind } from './types';

/** The token scene prompts use to place the character. */
export const CHARACTER_TOKEN = '@character';

/** How prompts name a character on a contract: relays by `@id`, official by its name (plus `characters:[{id}]`). */
export function mentionFor(contract: ContractKind, id: string, name: string): string {
  return contract === 'official' ? name : `@${id}`;
}

/** How well a scene held a character: by the provider's handle on it, else by description. */
export function continuityOf(ref: CharacterRef | undefined): Continuity {
  return ref ? (ref.hold ?? 'kept') : 'degraded';
}
