/**
 * The simulator's building blocks without HTTP: the bytes it serves (checked by parsers written
 * here, independently of the writers), form parsing, billing rules, seeded randomness, CLI flags.
 */
import { clipFor, containsHumanLikeness, spritesheetFor, thumbnailFor, videoFor } from '../simulator/media';
import { JobStore, viewJob } from '../simulator/jobs';
import { Ledger } from '../simulator/ledger';
import { parseCliOptions } from '../simulator/main';
import { expandBracketFields, parseMultipart } from '../simulator/multipart';
import { officialPriceUsd } from '../simulator/pricing';
import { deriveStream, IdMinter, SeededRandom } from '../simulator/prng';

interface Mp4Box {
  type: string;
  start: number;
  size: number;
  children: Mp4Box[];
}

/** Boxes whose payload is only child boxes, and full boxes holding children after a count. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'dinf', 'stbl']);
const COUNTED_CONTAINERS: Record<string, number> = { dref: 8, stsd: 8 };

/** Walk boxes in [start, end); every size must fit and the boxes must tile the range exactly. */
function parseBoxes(data: Buffer, start: number, end: number): Mp4Box[] {
  const boxes: Mp4Box[] = [];
  let offset = start;
  while (offset < end) {
    const size = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    expect(size).toBeGreaterThanOrEqual(8);
    expect(offset + size).toBeLessThanOrEqual(end);
    const childStart = CONTAINERS.has(type)
      ? offset + 8
      : type in COUNTED_CONTAINERS
        ? offset + 8 + COUNTED_CONTAINERS[type]
        : undefined;
    const children = childStart === undefined ? [] : parseBoxes(data, childStart, offset + size);
    boxes.push({ type, start: offset, size, children });
    offset += size;
  }
  expect(offset).toBe(end);
  return boxes;
}

function find(boxes: Mp4Box[], path: string[]): Mp4Box {
  const [head, ...rest] = path;
  const box = boxes.find((b) => b.type === head);
  if (!box) throw new Error(`no ${head} box`);
  return rest.length === 0 ? box : find(box.children, rest);
}

const subject = {
  id: 'video_0001abcdef',
  prompt: 'Mira walks by the sea',
  seconds: 8,
  size: '1280x720',
  createdAtMs: 1_800_000_000_000,
};

describe('media', () => {
  it('writes a structurally valid MP4: ftyp first, moov with mvhd and a video trak, sizes adding up', () => {
    const mp4 = videoFor(subject);
    const boxes = parseBoxes(mp4, 0, mp4.length);
    expect(boxes.map((b) => b.type)).toEqual(['ftyp', 'moov', 'free', 'mdat']);
    expect(mp4.toString('latin1', 8, 12)).toBe('isom');

    const mvhd = find(boxes, ['moov', 'mvhd']);
    const timescale = mp4.readUInt32BE(mvhd.start + 20);
    expect(mp4.readUInt32BE(mvhd.start + 24) / timescale).toBe(8);
    const tkhd = find(boxes, ['moov', 'trak', 'tkhd']);
    expect([mp4.readUInt32BE(tkhd.start + 84) >>> 16, mp4.readUInt32BE(tkhd.start + 88) >>> 16]).toEqual([1280, 720]);
    const hdlr = find(boxes, ['moov', 'trak', 'mdia', 'hdlr']);
    expect(mp4.toString('latin1', hdlr.start + 16, hdlr.start + 20)).toBe('vide');
    expect(find(boxes, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'avc1']).size).toBe(86);
    for (const table of ['stts', 'stsc', 'stsz', 'stco']) find(boxes, ['moov', 'trak', 'mdia', 'minf', 'stbl', table]);
    find(boxes, ['moov', 'trak', 'mdia', 'minf', 'dinf', 'dref', 'url ']);

    expect(mp4.length).toBeGreaterThan(2_000);
    expect(mp4.length).toBeLessThan(16_000);
  });

  it('makes bytes unique per job and repeatable per job', () => {
    expect(videoFor(subject).equals(videoFor({ ...subject }))).toBe(true);
    expect(videoFor(subject).equals(videoFor({ ...subject, id: 'video_0002abcdef' }))).toBe(false);
    expect(videoFor(subject).equals(videoFor({ ...subject, prompt: 'Mira runs' }))).toBe(false);
  });

  it('writes valid lossless WebP thumbnails and spritesheets', () => {
    for (const [image, width, height] of [
      [thumbnailFor(subject), 160, 90],
      [spritesheetFor(subject), 320, 45],
    ] as const) {
      expect(image.toString('latin1', 0, 4)).toBe('RIFF');
      expect(image.readUInt32LE(4)).toBe(image.length - 8);
      expect(image.toString('latin1', 8, 16)).toBe('WEBPVP8L');
      const chunkSize = image.readUInt32LE(16);
      expect(20 + chunkSize + (chunkSize % 2)).toBe(image.length);
      expect(image[20]).toBe(0x2f); // VP8L signature
      const header = image.readUInt32LE(21);
      expect([(header & 0x3fff) + 1, ((header >>> 14) & 0x3fff) + 1, header >>> 29]).toEqual([width, height, 0]);
    }
  });

  it('marks clips named human* with the likeness marker, and only those', () => {
    expect(containsHumanLikeness(clipFor('human-anna'))).toBe(true);
    expect(containsHumanLikeness(clipFor('hero'))).toBe(false);
    const clip = clipFor('hero');
    expect(parseBoxes(clip, 0, clip.length)[0].type).toBe('ftyp');
  });
});

describe('multipart forms', () => {
  function form(parts: Array<[string, string] | [string, Buffer, string]>): { body: Buffer; contentType: string } {
    const boundary = 'sim-test-boundary';
    const chunks = parts.map((part) => {
      const disposition =
        part.length === 3 ? `form-data; name="${part[0]}"; filename="${part[2]}"` : `form-data; name="${part[0]}"`;
      const type = part.length === 3 ? 'Content-Type: video/mp4\r\n' : '';
      return Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
        Buffer.from(part[1]),
        Buffer.from('\r\n'),
      ]);
    });
    return {
      body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]),
      contentType: `multipart/form-data; boundary=${boundary}`,
    };
  }

  it('expands bracket names in both conventions (indexed and the SDK’s `[]`)', () => {
    const { body, contentType } = form([
      ['prompt', 'Ada and Bo'],
      ['characters[][id]', 'char_a'],
      ['characters[][id]', 'char_b'],
      ['refs[0][id]', 'x'],
      ['refs[1][id]', 'y'],
      ['input_reference[image_url]', 'https://example.com/a.png'],
      ['empty', ''],
    ]);
    const fields = expandBracketFields(parseMultipart(body, contentType));
    expect(JSON.parse(JSON.stringify(fields))).toEqual({
      prompt: 'Ada and Bo',
      characters: [{ id: 'char_a' }, { id: 'char_b' }],
      refs: [{ id: 'x' }, { id: 'y' }],
      input_reference: { image_url: 'https://example.com/a.png' },
      empty: '',
    });
  });

  it('keeps binary file parts intact, even when they contain CRLF and dashes', () => {
    const data = Buffer.concat([
      clipFor('hero'),
      Buffer.from('\r\n--sim-test-boundar\r\n'),
      Buffer.from([0, 255, 13, 10]),
    ]);
    const { body, contentType } = form([
      ['video', data, 'hero.mp4'],
      ['name', 'Hero'],
    ]);
    const [video, name] = parseMultipart(body, contentType);
    expect(typeof video.value === 'object' && video.value.data.equals(data)).toBe(true);
    expect(name.value).toBe('Hero');
  });

  it('refuses prototype-polluting names', () => {
    const { body, contentType } = form([['__proto__[polluted]', 'yes']]);
    expect(() => expandBracketFields(parseMultipart(body, contentType))).toThrow(/Invalid field name/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('billing and progression rules', () => {
  it('prices official jobs per second by model and size', () => {
    expect(officialPriceUsd('sora-2', '720x1280', 12)).toBe(1.2);
    expect(officialPriceUsd('sora-2-2025-12-08', '1792x1024', 4)).toBe(0.4);
    expect(officialPriceUsd('sora-2-pro-2025-10-06', '720x1280', 8)).toBe(2.4);
    expect(officialPriceUsd('sora-2-pro', '1792x1024', 16)).toBe(8);
    expect(officialPriceUsd('sora-2-pro', '1080x1920', 20)).toBe(14);
  });

  it('bills processing_error failures at 0 and moderation failures in full', () => {
    let now = 1_000_000;
    const jobs = new JobStore(new IdMinter(1), deriveStream(1, 'durations'));
    const ledger = new Ledger(jobs, () => now);
    const options = { nowMs: now, jobSeconds: 10, jitter: 0 };
    const draft = { prompt: 'p', seconds: 10, size: '720x1280', characterIds: [] };
    const overloaded = jobs.create('relay-v1', draft, { ...options, outcome: 'processing_error' });
    const blocked = jobs.create('relay-v1', draft, { ...options, outcome: 'moderation_blocked' });
    ledger.record(overloaded, 0.12);
    ledger.record(blocked, 0.12);
    expect(ledger.entries().map((e) => [e.status, e.billedUsd])).toEqual([
      ['queued', 0.12],
      ['queued', 0.12],
    ]);
    now += 5_000;
    expect(viewJob(overloaded, now).error?.code).toBe('processing_error');
    expect(ledger.entries().map((e) => [e.status, e.billedUsd])).toEqual([
      ['failed', 0],
      ['failed', 0.12],
    ]);
  });
});

describe('seeded randomness', () => {
  it('repeats under a seed and keeps purposes independent', () => {
    const a = new SeededRandom(9);
    const b = new SeededRandom(9);
    const draws = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(draws);
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(draws).size).toBe(100);
    expect(deriveStream(9, 'ids').next()).not.toBe(deriveStream(9, 'durations').next());
    const ids = new IdMinter(3);
    expect(
      [ids.mint('video'), ids.mint('task'), ids.mint('video')].map(
        (id) => id.split('_')[0] + '_' + id.split('_')[1].slice(0, 4),
      ),
    ).toEqual(['video_0001', 'task_0001', 'video_0002']);
  });
});

describe('CLI options', () => {
  it('reads flags and takes keys from the environment only', () => {
    const options = parseCliOptions(['--port', '7070', '--seed', '3', '--job-seconds', '0.5'], {
      SIM_OFFICIAL_KEY: 'sk-o',
    });
    expect(options).toMatchObject({
      port: 7070,
      host: '127.0.0.1',
      seed: 3,
      jobSeconds: 0.5,
      keys: { official: 'sk-o', relay: 'sk-sim-relay' },
    });
    expect(() => parseCliOptions(['--official-key', 'x'], {})).toThrow();
    expect(() => parseCliOptions(['--port', 'abc'], {})).toThrow(/--port/);
  });
});
