import type { CharacterDefinition } from './record';

/** Library names: what `@<name>` can mention (scene-rules' mention pattern) and a workflow id can hold. */
export const CHARACTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** `@character` is the one-character form's token (any case): no library name may begin with it. */
export const isReservedCharacterName = (name: string): boolean => name.toLowerCase().startsWith('character');

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** Objects with sorted keys, so `{relay, official}` equals `{official, relay}`. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** The fields in which `given` differs from `stored` (`description`, `clip`, `adopt.relay`...), in a stable order. */
export function definitionDifferences(stored: CharacterDefinition, given: CharacterDefinition): string[] {
  const fields: string[] = [];
  for (const key of ['description', 'clip', 'images', 'extract'] as const)
    if (!same(stored[key], given[key])) fields.push(key);
  const providers = [...new Set([...Object.keys(stored.adopt ?? {}), ...Object.keys(given.adopt ?? {})])].sort();
  for (const p of providers) if (stored.adopt?.[p] !== given.adopt?.[p]) fields.push(`adopt.${p}`);
  return fields;
}
