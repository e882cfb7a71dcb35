/**
 * A character of the library as plain data: what its workflow (`character/<name>`) holds and
 * carries across continue-as-new, and what its query shows. No Maps, classes or functions.
 */
import type { CharacterRef, StoredMedia } from '../types';

/** What a user defines: the same fields in `characters create`, the gateway and a spec's inline `characters:` item. */
export interface CharacterDefinition {
  /** The library name: `@<name>` in prompts, `character/<name>` as workflow id. */
  name: string;
  description: string;
  /** A 2-4 s source clip (public URL). */
  clip?: string;
  /** Reference images (public URLs), frontal first; used as the stills when given. */
  images?: string[];
  /** Existing handles by provider name (`{relay: char_..., official: char_...}`). */
  adopt?: Record<string, string>;
  /** A character made from an earlier generation on a provider that can (relay-v1). */
  extract?: { provider: string; taskId: string };
}

export type HandleState = 'ready' | 'refused' | 'revoked';

/** One provider's handle on the character: made once, shared by every series. */
export interface CharacterHandle {
  provider: string;
  state: HandleState;
  /** Set while ready (and kept, for the record, once revoked). */
  ref?: CharacterRef;
  /** Why it is refused or was revoked. */
  reason?: string;
  /** ms since the epoch (workflow time). */
  createdAt: number;
  /** What making it cost upstream (0 where the provider bills nothing for characters). */
  costUsd: number;
  origin: 'created' | 'adopted' | 'extracted';
  /** Times it was made again after the provider revoked it. */
  recreations: number;
  /** The series whose need made it (absent when made by `characters create --on` or adopted). */
  madeFor?: string;
}

/** The source material, each file stored content-addressed by the worker. */
export interface CharacterSource {
  clip?: StoredMedia & { url: string };
  images: Array<StoredMedia & { url: string }>;
}

/** A series that uses the character: `running` until it says it ended. */
export interface CharacterUse {
  seriesId: string;
  since: number;
  running: boolean;
}

export interface CharacterRecord {
  definition: CharacterDefinition;
  createdAt: number;
  /** False until the source is stored and adopted / extracted handles are in. */
  prepared: boolean;
  source: CharacterSource;
  /** Reference stills, frontal first: the images when given, else frames of the clip. */
  stills: StoredMedia[];
  /** provider name -> handle. */
  handles: Record<string, CharacterHandle>;
  uses: CharacterUse[];
  /** Why the source could not be stored; the character is then unusable and its workflow ends. */
  invalid?: string;
  retired?: { at: number };
}

/** What `characters show` and GET /characters/{name} print: no local paths of the worker but the stills'. */
export interface CharacterView {
  name: string;
  description: string;
  status: 'preparing' | 'active' | 'retired' | 'invalid';
  createdAt: string;
  source: { clip?: { url: string; sha256: string }; images: Array<{ url: string; sha256: string }> };
  stills: StoredMedia[];
  handles: Array<Omit<CharacterHandle, 'createdAt'> & { createdAt: string }>;
  /** Series that use it; `running` ones block retirement. */
  series: Array<{ id: string; running: boolean; since: string }>;
  adopt?: Record<string, string>;
  extract?: { provider: string; taskId: string };
  invalid?: string;
}

/** What the library's workflow gives a series for a character on one provider. */
export type HandleAnswer = { character: string; provider: string } & HandleCard &
  ({ ref: CharacterRef; madeFor?: string; costUsd?: number } | { refused: string } | { unavailable: string });

/** What a series needs of the character besides the handle: for degraded and referencing providers. */
export interface HandleCard {
  description: string;
  sourceClip?: StoredMedia & { url: string };
  stills: StoredMedia[];
}
