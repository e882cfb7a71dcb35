/**
 * Characters of both contracts. Each contract has its own namespace: a relay's `char_...` means
 * nothing to the official API and vice versa, exactly as with the real upstreams.
 */
import type { IdMinter } from './prng';
import type { Contract } from './scenario';

export type CharacterSource =
  { kind: 'upload'; sha256: string; bytes: number } | { kind: 'url'; url: string } | { kind: 'task'; taskId: string };

export interface Character {
  id: string;
  contract: Contract;
  name: string;
  description: string | null;
  createdAtMs: number;
  source: CharacterSource;
}

export class CharacterStore {
  private readonly characters = new Map<string, Character>();

  constructor(private readonly ids: IdMinter) {}

  create(contract: Contract, fields: Omit<Character, 'id' | 'contract'>): Character {
    const character: Character = { id: this.ids.mint('char'), contract, ...fields };
    this.characters.set(character.id, character);
    return character;
  }

  get(contract: Contract, id: string): Character | undefined {
    const character = this.characters.get(id);
    return character && character.contract === contract ? character : undefined;
  }

  list(contract: Contract): Character[] {
    return [...this.characters.values()].filter((c) => c.contract === contract);
  }

  clear(): void {
    this.characters.clear();
  }
}
