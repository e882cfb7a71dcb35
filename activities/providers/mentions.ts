import type { TakeCharacter } from './provider';

/** How a character is named when the provider holds nothing of it: continuity degraded. */
export const describedCharacter = (character: Pick<TakeCharacter, 'name' | 'description'>): string =>
  `${character.name} (${character.description})`;

/**
 * The prompt with every character's token replaced by the adapter's `mention` of it (its handle,
 * its reference images), or by its description where `mention` has none. A character whose token
 * is not in the prompt is put in front, so the provider always sees every character it was sent.
 */
export function renderMentions(
  prompt: string,
  characters: TakeCharacter[],
  mention: (character: TakeCharacter, index: number) => string | undefined,
): string {
  const named = characters.map((c, i) => mention(c, i) ?? describedCharacter(c));
  // Longest token first, and never inside a longer word: `@mi` must not eat `@mira`.
  const order = characters.map((c, i) => ({ token: c.token, i })).sort((a, b) => b.token.length - a.token.length);
  if (order.length === 0) return prompt;
  const pattern = new RegExp(`(${order.map((o) => escapeRegExp(o.token)).join('|')})(?![\\w-])`, 'g');
  const byToken = new Map(order.map((o) => [o.token, named[o.i]]));
  const rendered = prompt.replace(pattern, (token) => byToken.get(token) ?? token);
  const absent = characters.flatMap((c, i) => (mentioned(prompt, c.token) ? [] : [named[i]]));
  return absent.length ? `${absent.join(', ')}: ${rendered}` : rendered;
}

function mentioned(prompt: string, token: string): boolean {
  return new RegExp(`${escapeRegExp(token)}(?![\\w-])`).test(prompt);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
