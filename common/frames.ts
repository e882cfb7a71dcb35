/**
 * Raw RGB frames drawn in JS: solid boxes and text in a built-in pixel font (js-pixel-fonts'
 * "Seven plus", printable ASCII). Text this way needs no system font and no drawtext filter, and
 * the same string always gives the same pixels, so rendered media stays byte-for-byte repeatable.
 * The simulator draws its videos with it, the episode cut its contact sheet.
 */
import { fonts, renderPixels } from 'js-pixel-fonts';

export type Rgb = readonly [number, number, number];

const FONT = fonts.sevenPlus;
/** Glyphs are 7 rows plus up to 2 of descender; one more row of space between lines. */
export const LINE_PITCH = 10;

/** What the font can draw: accents dropped, anything else outside printable ASCII as `?`. */
export function printable(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?');
}

function glyphRows(line: string): number[][] {
  return line === '' ? [] : renderPixels(printable(line), FONT);
}

export function textWidth(line: string, scale = 1): number {
  const rows = glyphRows(line);
  return rows.reduce((max, row) => Math.max(max, row.length), 0) * scale;
}

/** Greedy word wrap to `maxWidth` pixels; a word longer than a line is cut. At most `maxLines` (the last ends in "..."). */
export function wrap(text: string, maxWidth: number, scale: number, maxLines: number): string[] {
  const fits = (line: string) => textWidth(line, scale) <= maxWidth;
  const lines: string[] = [];
  let current = '';
  for (let word of printable(text).split(' ').filter(Boolean)) {
    while (!fits(word)) {
      let cut = word.length - 1;
      while (cut > 1 && !fits(word.slice(0, cut))) cut--;
      if (current) lines.push(current);
      lines.push(word.slice(0, cut));
      current = '';
      word = word.slice(cut);
    }
    const joined = current ? `${current} ${word}` : word;
    if (fits(joined)) current = joined;
    else {
      lines.push(current);
      current = word;
    }
  }
  if (current) lines.push(current);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = `${kept[maxLines - 1]}...`;
  while (!fits(last) && last.length > 3) last = `${last.slice(0, -4)}...`;
  kept[maxLines - 1] = last;
  return kept;
}

export class Frame {
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
    data?: Buffer,
  ) {
    this.data = data ?? Buffer.alloc(width * height * 3);
  }

  clone(): Frame {
    return new Frame(this.width, this.height, Buffer.from(this.data));
  }

  /** A box clipped to the frame. */
  rect(x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
    const x0 = Math.max(0, Math.floor(x));
    const x1 = Math.min(this.width, Math.floor(x + w));
    for (let row = Math.max(0, Math.floor(y)); row < Math.min(this.height, Math.floor(y + h)); row++) {
      for (let col = x0; col < x1; col++) {
        const i = (row * this.width + col) * 3;
        this.data[i] = r;
        this.data[i + 1] = g;
        this.data[i + 2] = b;
      }
    }
  }

  /** One line of text, its top-left corner at (x, y), each font pixel `scale` frame pixels square. */
  text(x: number, y: number, line: string, scale: number, color: Rgb): void {
    glyphRows(line).forEach((row, dy) =>
      row.forEach((on, dx) => {
        if (on) this.rect(x + dx * scale, y + dy * scale, scale, scale, color);
      }),
    );
  }

  /** Downscale by averaging each output pixel's source box: small text turns grey, not broken. */
  resized(width: number, height: number): Frame {
    const out = new Frame(width, height);
    for (let row = 0; row < height; row++) {
      const y0 = Math.floor((row * this.height) / height);
      const y1 = Math.max(y0 + 1, Math.floor(((row + 1) * this.height) / height));
      for (let col = 0; col < width; col++) {
        const x0 = Math.floor((col * this.width) / width);
        const x1 = Math.max(x0 + 1, Math.floor(((col + 1) * this.width) / width));
        const sum = [0, 0, 0];
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const i = (y * this.width + x) * 3;
            sum[0] += this.data[i];
            sum[1] += this.data[i + 1];
            sum[2] += this.data[i + 2];
          }
        }
        const n = (y1 - y0) * (x1 - x0);
        const o = (row * width + col) * 3;
        for (let c = 0; c < 3; c++) out.data[o + c] = Math.round(sum[c] / n);
      }
    }
    return out;
  }

  /** Copy `frame` in with its top-left corner at (x, y). */
  paste(frame: Frame, x: number, y: number): void {
    for (let row = 0; row < frame.height; row++) {
      const start = row * frame.width * 3;
      frame.data.copy(this.data, ((y + row) * this.width + x) * 3, start, start + frame.width * 3);
    }
  }
}
