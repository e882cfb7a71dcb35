/**
 * A valid lossless WebP (VP8L, RFC 9649) of one solid colour, written bit by bit. A single-symbol
 * prefix code per channel costs zero bits per pixel, so any size fits in a dozen bytes. The OpenAPI
 * file says thumbnails and spritesheets are `image/webp`, so that is what the simulator serves.
 */

class BitWriter {
  private readonly bytes: number[] = [];
  private bitCount = 0;

  /** VP8L packs values least-significant bit first. */
  write(value: number, bits: number): void {
    for (let i = 0; i < bits; i++) {
      const byteIndex = this.bitCount >> 3;
      if (byteIndex === this.bytes.length) this.bytes.push(0);
      if ((value >>> i) & 1) this.bytes[byteIndex] |= 1 << (this.bitCount & 7);
      this.bitCount += 1;
    }
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** A "simple" prefix code with one 8-bit symbol: every read of it yields `symbol`, using no bits. */
function writeSingleSymbolCode(bits: BitWriter, symbol: number): void {
  bits.write(1, 1); // simple code
  bits.write(0, 1); // num_symbols - 1 = 0
  bits.write(1, 1); // is_first_8bits
  bits.write(symbol, 8);
}

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

export function buildSolidWebp(width: number, height: number, color: Rgba): Buffer {
  if (width < 1 || height < 1 || width > 16384 || height > 16384) throw new RangeError('WebP size out of range');
  const bits = new BitWriter();
  bits.write(0x2f, 8); // VP8L signature
  bits.write(width - 1, 14);
  bits.write(height - 1, 14);
  bits.write(color.a === 255 ? 0 : 1, 1); // alpha_is_used hint
  bits.write(0, 3); // version
  bits.write(0, 1); // no transforms
  bits.write(0, 1); // no colour cache
  bits.write(0, 1); // no meta prefix codes: one code group for the whole image
  writeSingleSymbolCode(bits, color.g); // green (+ length prefixes)
  writeSingleSymbolCode(bits, color.r);
  writeSingleSymbolCode(bits, color.b);
  writeSingleSymbolCode(bits, color.a);
  writeSingleSymbolCode(bits, 0); // distance codes: never used
  const vp8l = bits.toBuffer();
  const padded = vp8l.length % 2 === 1 ? Buffer.concat([vp8l, Buffer.alloc(1)]) : vp8l;
  const chunkHeader = Buffer.alloc(8);
  chunkHeader.write('VP8L', 0, 'latin1');
  chunkHeader.writeUInt32LE(vp8l.length, 4);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + 8 + padded.length, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, chunkHeader, padded]);
}
