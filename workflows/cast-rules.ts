import type { ContractKind, ProviderProfile } from './types';

/**
 * Contract defaults for holding characters, one line per contract (a profile may set its own):
 *  - official: at most 2 characters per video (contracts README: `characters: [{id}]`, at most 2);
 *  - relay-v1: 2 as well. Relays drive the consumer Sora app, whose cameos follow the same model
 *    limit; a third `@char_...` is dropped or refused upstream, and matching the official limit
 *    means a scene falling back between the two never loses a character it held;
 *  - kling: 7 elements and reference images together per omni task (kling.md §3a);
 *  - seedance: 3, every character's frontal still first within Ark's 9 reference images;
 *  - fal: the model's own limit (fal-models.ts: Seedance 3, Kling O3 4, Veo 1, Gemini 3), set on
 *    the profile; 1 (the strictest model) when it is not.
 */
export const CHARACTERS_PER_TAKE: Record<ContractKind, number> = {
  official: 2,
  'relay-v1': 2,
  kling: 7,
  seedance: 3,
  fal: 1,
};

/**
 * What making a handle costs upstream: none bills it (relays bill per video; Kling elements and
 * fal storage uploads are free; seedance sends references with each request).
 */
export const CHARACTER_PRICE_USD: Record<ContractKind, number> = {
  official: 0,
  'relay-v1': 0,
  kling: 0,
  seedance: 0,
  fal: 0,
};

/** The most characters one take on this provider can hold. */
export const maxCharactersOf = (profile: ProviderProfile): number =>
  profile.maxCharacters ?? CHARACTERS_PER_TAKE[profile.contract];

/** What a new handle on this provider costs. */
export const characterPriceOf = (profile: ProviderProfile): number =>
  profile.characterUsd ?? CHARACTER_PRICE_USD[profile.contract];
