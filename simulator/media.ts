/**
 * The media the simulator serves: a real, playable H.264 MP4 per job (a few frames a second, low
 * resolution, the ordered aspect ratio and duration) with the scene, the prompt, the contract and
 * the cast burned in; thumbnails and spritesheets made of its frames; source clips for characters.
 * Everything is derived from the job, so a download is repeatable and two jobs never share a
 * sha256. Rendering costs an ffmpeg run (about 0.1 s), so results are cached per job and at most
 * two renders run at once, whatever the number of parallel downloads.
 */
import { createHash } from 'node:crypto';
import { Sema } from 'async-sema';
import { LRUCache } from 'lru-cache';
import { encodeMp4, encodeWebp } from './encode';
import { Frame, LINE_PITCH, textWidth, wrap, type Rgb } from '../common/frames';
import type { Job } from './jobs';
import { parseSceneWorkflowId, parseTakeIdempotencyKey } from '../workflows/ids';

/** Bytes a character-upload endpoint refuses as "a real human likeness" (see README). */
export const HUMAN_LIKENESS_MARKER = 'HUMAN_LIKENESS';
export const FPS = 4;
/** Long side of every rendered video; the short side keeps the ordered aspect (rounded to even). */
export const RENDER_LONG_SIDE = 320;
const THUMBNAIL_LONG_SIDE = 160;
const SPRITE_LONG_SIDE = 80;
const SPRITE_TILES = 4;
const CLIP_SECONDS = 3;
const CLIP_SIZE = '720x1280';
const CACHE_BYTES = 64 * 1024 * 1024;
const PARALLEL_RENDERS = 2;
/** Bump when the picture changes, so no cache serves an older drawing. */
const LAYOUT_VERSION = 2;

const WHITE: Rgb = [240, 240, 240];
const ACCENT: Rgb = [255, 210, 90];
const DIM: Rgb = [170, 180, 200];
const MARGIN = 6;

/** What a job's video shows, and how long and in which shape. */
export interface VideoSubject {
  /** `SCENE 3 TAKE 1` for a sora-series take, else the job id. */
  title: string;
  jobId: string;
  prompt: string;
  /** The contract (and model) that made it. */
  source: string;
  /** Names of the characters the job used. */
  cast: string[];
  seconds: number;
  /** `WIDTHxHEIGHT` as ordered. */
  size: string;
}

/** The scene and take a sora-series idempotency key names (`series/<name>/scene-<n>/take-<t>`), if any. */
function titleOf(job: Pick<Job, 'id' | 'idempotencyKey'>): string {
  const take = job.idempotencyKey ? parseTakeIdempotencyKey(job.idempotencyKey) : undefined;
  const scene = take ? parseSceneWorkflowId(take.sceneId) : undefined;
  return scene && take ? `SCENE ${scene.index} TAKE ${take.take}` : job.id;
}

export function videoSubject(job: Job, characterName: (id: string) => string | undefined): VideoSubject {
  return {
    title: titleOf(job),
    jobId: job.id,
    prompt: job.prompt,
    source: job.contract === 'official' ? `official ${job.model ?? 'sora-2'}` : job.contract,
    cast: job.characterIds.map((id) => characterName(id) ?? id),
    seconds: job.seconds,
    size: job.size,
  };
}

/**
 * The render size for an ordered `WIDTHxHEIGHT`: the long side `longSide`, the short side in the
 * same aspect, rounded to a multiple of `step` (2 for video: yuv420p wants even sides).
 */
export function renderSize(size: string, longSide = RENDER_LONG_SIDE, step = 2): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(size);
  const [w, h] = match && Number(match[1]) > 0 && Number(match[2]) > 0 ? [+match[1], +match[2]] : [720, 1280];
  const round = (n: number) => Math.max(step, step * Math.round(n / step));
  return w >= h
    ? { width: round(longSide), height: round((longSide * h) / w) }
    : { width: round((longSide * w) / h), height: round(longSide) };
}

const digest = (...parts: string[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest();
};

/** A dark background whose hue is the job's own, so takes tell apart at a glance. */
function background(seed: string): Rgb {
  const [r, g, b] = digest('background', seed);
  return [16 + (r % 48), 16 + (g % 48), 32 + (b % 56)];
}

interface Picture {
  title: string;
  lines: Array<{ text: string; color: Rgb }>;
  prompt: string;
  seconds: number;
  size: string;
  seed: string;
}

/** Text that stays put; the progress bar and clock are drawn per frame over a copy. */
function baseFrame(picture: Picture): Frame {
  const { width, height } = renderSize(picture.size);
  const frame = new Frame(width, height);
  frame.rect(0, 0, width, height, background(picture.seed));
  const inner = width - 2 * MARGIN;
  const titleScale = textWidth(picture.title, 2) <= inner ? 2 : 1;
  let y = MARGIN;
  for (const line of wrap(picture.title, inner, titleScale, 2)) {
    frame.text(MARGIN, y, line, titleScale, WHITE);
    y += LINE_PITCH * titleScale;
  }
  y += 2;
  for (const { text, color } of picture.lines) {
    for (const line of wrap(text, inner, 1, 2)) {
      frame.text(MARGIN, y, line, 1, color);
      y += LINE_PITCH;
    }
  }
  frame.rect(MARGIN, y + 2, inner, 1, DIM);
  y += 8;
  const footer = height - MARGIN - 8 - LINE_PITCH;
  const room = Math.max(1, Math.floor((footer - y) / LINE_PITCH));
  for (const line of wrap(picture.prompt, inner, 1, room)) {
    frame.text(MARGIN, y, line, 1, WHITE);
    y += LINE_PITCH;
  }
  return frame;
}

/** Frame `index` of `count`: the base with a clock and a progress bar that moves. */
function frameAt(base: Frame, index: number, count: number, seconds: number): Frame {
  const frame = base.clone();
  const inner = frame.width - 2 * MARGIN;
  const barY = frame.height - MARGIN - 6;
  frame.text(MARGIN, barY - LINE_PITCH, `${(index / FPS).toFixed(2)}s / ${seconds}s`, 1, DIM);
  frame.rect(MARGIN, barY, inner, 6, [60, 60, 70]);
  frame.rect(MARGIN, barY, Math.max(1, Math.round((inner * (index + 1)) / count)), 6, ACCENT);
  return frame;
}

function frameCount(seconds: number): number {
  return Math.max(1, Math.round(seconds * FPS));
}

function* frames(picture: Picture): Generator<Buffer> {
  const base = baseFrame(picture);
  const count = frameCount(picture.seconds);
  for (let i = 0; i < count; i++) yield frameAt(base, i, count, picture.seconds).data;
}

function videoPicture(subject: VideoSubject): Picture {
  const [width, height] = subject.size.split('x');
  return {
    title: subject.title,
    lines: [
      ...(subject.title === subject.jobId ? [] : [{ text: subject.jobId, color: DIM }]),
      { text: subject.source, color: ACCENT },
      { text: `cast: ${subject.cast.length ? subject.cast.join(', ') : '(none)'}`, color: DIM },
      { text: `${width}x${height}, ${subject.seconds}s`, color: DIM },
    ],
    prompt: subject.prompt,
    seconds: subject.seconds,
    size: subject.size,
    seed: subject.jobId,
  };
}

function clipPicture(name: string): Picture {
  const human = name.toLowerCase().startsWith('human');
  return {
    title: 'CHARACTER CLIP',
    lines: [{ text: name, color: ACCENT }, ...(human ? [{ text: 'HUMAN LIKENESS', color: WHITE }] : [])],
    prompt: `source clip for the character ${name}`,
    seconds: CLIP_SECONDS,
    size: CLIP_SIZE,
    seed: `clip:${name}`,
  };
}

/** Thumbnail-sized copies of the frames at `positions` (fractions of the video). */
function stills(picture: Picture, positions: number[], longSide: number): Frame[] {
  const base = baseFrame(picture);
  const count = frameCount(picture.seconds);
  const { width, height } = renderSize(picture.size, longSide, 1);
  return positions.map((at) =>
    frameAt(base, Math.min(count - 1, Math.floor(at * count)), count, picture.seconds).resized(width, height),
  );
}

export interface MediaStats {
  /** ffmpeg runs so far, and their total and longest wall time. */
  renders: number;
  renderMs: number;
  maxRenderMs: number;
  /** Answers served without a render of their own (cached, or shared with one under way). */
  cacheHits: number;
}

type Render = () => Promise<Buffer>;

export class MediaRenderer {
  private readonly slots = new Sema(PARALLEL_RENDERS);
  private readonly counters = { renders: 0, renderMs: 0, maxRenderMs: 0 };
  private requests = 0;
  private readonly cache = new LRUCache<string, Buffer, Render>({
    maxSize: CACHE_BYTES,
    sizeCalculation: (bytes) => Math.max(1, bytes.length),
    fetchMethod: (_key, _stale, { context }) => this.timed(context),
  });

  video(subject: VideoSubject): Promise<Buffer> {
    const picture = videoPicture(subject);
    const { width, height } = renderSize(picture.size);
    return this.get(['video', picture], () => encodeMp4(frames(picture), { width, height, fps: FPS }));
  }

  /** The middle frame, long side 160. */
  thumbnail(subject: VideoSubject): Promise<Buffer> {
    const picture = videoPicture(subject);
    return this.get(['thumbnail', picture], () => encodeWebp(stills(picture, [0.5], THUMBNAIL_LONG_SIDE)[0]));
  }

  /** Four frames spread over the video, side by side, long side 80 each. */
  spritesheet(subject: VideoSubject): Promise<Buffer> {
    const picture = videoPicture(subject);
    return this.get(['spritesheet', picture], () => {
      const tiles = stills(
        picture,
        Array.from({ length: SPRITE_TILES }, (_, i) => (i + 0.5) / SPRITE_TILES),
        SPRITE_LONG_SIDE,
      );
      const sheet = new Frame(tiles[0].width * SPRITE_TILES, tiles[0].height);
      tiles.forEach((tile, i) => sheet.paste(tile, i * tile.width, 0));
      return encodeWebp(sheet);
    });
  }

  /**
   * A source clip for character creation. Names starting with `human` carry the likeness marker
   * (in the `comment` tag), so fault drills can exercise the official API's refusal of real people.
   */
  clip(name: string): Promise<Buffer> {
    const picture = clipPicture(name);
    const { width, height } = renderSize(CLIP_SIZE);
    const comment = name.toLowerCase().startsWith('human') ? HUMAN_LIKENESS_MARKER : undefined;
    return this.get(['clip', picture], () => encodeMp4(frames(picture), { width, height, fps: FPS, comment }));
  }

  stats(): MediaStats {
    return { ...this.counters, cacheHits: this.requests - this.counters.renders };
  }

  private async get(what: [string, Picture], render: Render): Promise<Buffer> {
    const key = digest(String(LAYOUT_VERSION), JSON.stringify(what)).toString('hex');
    this.requests += 1;
    const bytes = await this.cache.fetch(key, { context: render });
    if (!bytes) throw new Error(`media render for ${what[0]} gave nothing`);
    return bytes;
  }

  private async timed(render: Render): Promise<Buffer> {
    await this.slots.acquire();
    const started = performance.now();
    try {
      return await render();
    } finally {
      const ms = performance.now() - started;
      this.slots.release();
      this.counters.renders += 1;
      this.counters.renderMs += ms;
      this.counters.maxRenderMs = Math.max(this.counters.maxRenderMs, ms);
    }
  }
}

export function containsHumanLikeness(data: Buffer): boolean {
  return data.includes(HUMAN_LIKENESS_MARKER, 0, 'latin1');
}

/** True when `data` starts like an MP4 (an ftyp box first), the check an upload endpoint makes. */
export function looksLikeMp4(data: Buffer): boolean {
  return data.length >= 16 && data.toString('latin1', 4, 8) === 'ftyp' && data.readUInt32BE(0) <= data.length;
}
