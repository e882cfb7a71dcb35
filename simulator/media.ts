/**
 * The bytes the simulator serves: per-job videos, thumbnails and spritesheets, and the source
 * clips characters are made from. Everything is derived from the job (id, prompt), so a download
 * is repeatable and two scenes never share a sha256.
 */
import { createHash } from 'node:crypto';
import { buildMp4 } from './mp4';
import { buildSolidWebp, type Rgba } from './webp';

/** Bytes a character-upload endpoint refuses as "a real human likeness" (see README). */
export const HUMAN_LIKENESS_MARKER = 'HUMAN_LIKENESS';
const FILLER_BYTES = 4096;
const CLIP_SECONDS = 3;

export interface MediaSubject {
  id: string;
  prompt: string;
  /** Seconds of output the job was asked for. */
  seconds: number;
  /** `WIDTHxHEIGHT`. */
  size: string;
  createdAtMs: number;
}

function sha256(...parts: string[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest();
}

/** Deterministic pseudo-random bytes: a sha256 chain seeded by `seed`. */
function filler(seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let block = seed;
  for (let total = 0; total < length; total += block.length) {
    block = createHash('sha256').update(block).digest();
    blocks.push(block);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function dimensions(size: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(size);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : { width: 720, height: 1280 };
}

function colorFor(seed: Buffer): Rgba {
  return { r: seed[0], g: seed[1], b: seed[2], a: 255 };
}

export function videoFor(subject: MediaSubject): Buffer {
  const promptHash = sha256(subject.prompt).toString('hex');
  const { width, height } = dimensions(subject.size);
  return buildMp4({
    width,
    height,
    durationSeconds: subject.seconds,
    createdAtSeconds: Math.floor(subject.createdAtMs / 1000),
    label: `sora-series simulator\njob=${subject.id}\nprompt_sha256=${promptHash}\n`,
    filler: filler(sha256(subject.id, promptHash), FILLER_BYTES),
  });
}

/** A small preview in the video's aspect ratio. */
export function thumbnailFor(subject: MediaSubject): Buffer {
  const { width, height } = dimensions(subject.size);
  const scale = 160 / Math.max(width, height);
  return buildSolidWebp(
    Math.max(1, Math.round(width * scale)),
    Math.max(1, Math.round(height * scale)),
    colorFor(sha256('thumbnail', subject.id)),
  );
}

/** A strip of frames (here: one flat image of 4 thumbnails' width). */
export function spritesheetFor(subject: MediaSubject): Buffer {
  const { width, height } = dimensions(subject.size);
  const scale = 80 / Math.max(width, height);
  const frameWidth = Math.max(1, Math.round(width * scale));
  return buildSolidWebp(
    frameWidth * 4,
    Math.max(1, Math.round(height * scale)),
    colorFor(sha256('spritesheet', subject.id)),
  );
}

/**
 * A source clip for character creation. Names starting with `human` carry the likeness marker,
 * so fault drills can exercise the official API's refusal of real people.
 */
export function clipFor(name: string): Buffer {
  const human = name.toLowerCase().startsWith('human');
  return buildMp4({
    width: 720,
    height: 1280,
    durationSeconds: CLIP_SECONDS,
    createdAtSeconds: 1_767_225_600, // fixed: the same clip name always has the same bytes
    label: `sora-series simulator clip\nname=${name}\n${human ? `${HUMAN_LIKENESS_MARKER}\n` : ''}`,
    filler: filler(sha256('clip', name), FILLER_BYTES / 2),
  });
}

export function containsHumanLikeness(data: Buffer): boolean {
  return data.includes(HUMAN_LIKENESS_MARKER, 0, 'latin1');
}
