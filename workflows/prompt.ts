import type { CharacterPassport, ContractKind } from './types';

/** The token scene prompts use to place the character. */
export const CHARACTER_TOKEN = '@character';

/** How prompts name a character on a contract: relays by `@id`, official by its name (plus `characters:[{id}]`). */
export function mentionFor(contract: ContractKind, id: string, name: string): string {
  return contract === 'official' ? name : `@${id}`;
}

/**
 * Put the character into the prompt: its mention where the provider holds it, else its
 * description (continuity degraded). A prompt without the token gets the mention in front.
 */
export function renderPrompt(prompt: string, passport: CharacterPassport, provider: string): string {
  const ref = passport.refs[provider];
  const named = ref ? ref.mention : `${passport.name} (${passport.description})`;
  return prompt.includes(CHARACTER_TOKEN) ? prompt.split(CHARACTER_TOKEN).join(named) : `${named}: ${prompt}`;
}
