/**
 * Seeded randomness. The simulator must be reproducible: two runs with the same seed and the
 * same calls give the same ids and the same job durations, so a failing drill can be replayed.
 */

/** Weyl sequence + murmur3 finaliser: tiny, fast, good enough for ids and jitter (not crypto). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x1_0000_0000;
  }

  /** Uniform in [-1, 1). */
  nextSigned(): number {
    return this.next() * 2 - 1;
  }

  /** `length` lowercase hex characters. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) {
      out += Math.floor(this.next() * 0x1_0000_0000)
        .toString(16)
        .padStart(8, '0');
    }
    return out.slice(0, length);
  }
}

/**
 * Independent streams per purpose, so that e.g. creating a character (an id draw) does not shift
 * every later job's duration: determinism survives small changes in a drill's call sequence.
 */
export function deriveStream(seed: number, purpose: string): SeededRandom {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < purpose.length; i++) {
    h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  }
  return new SeededRandom(h);
}

/** Mints ids like `video_0001a3f9...`: a counter per prefix keeps them ordered, the hex part looks real. */
export class IdMinter {
  private readonly counters = new Map<string, number>();
  private readonly random: SeededRandom;

  constructor(seed: number) {
    this.random = deriveStream(seed, 'ids');
  }

  mint(prefix: string): string {
    const counter = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, counter);
    return `${prefix}_${counter.toString(16).padStart(4, '0')}${this.random.hex(20)}`;
  }

  /** A UUID v4 from the seeded stream (fal's request ids). */
  uuid(): string {
    const hex = this.random.hex(32).split('');
    hex[12] = '4';
    hex[16] = '89ab'[parseInt(hex[16], 16) % 4];
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}
