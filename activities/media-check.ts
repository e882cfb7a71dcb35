/**
 * A take counts only when its video is what was ordered: ffprobe decodes a video stream from end
 * to end without an error, and its duration and aspect ratio are within tolerance of the order.
 * A CDN challenge page, a cut-off or scrambled download, an empty body: each is `InvalidMedia`,
 * downloaded again a couple of times (the activity's retry), then the scene makes a new take.
 */
import { probeMedia, type MediaProbe } from '../common/media-probe';

/** `ApplicationFailure.type` of a download that is not the ordered video. */
export const INVALID_MEDIA = 'InvalidMedia';
/** Downloads of one job tried before its bytes count as bad for good (the take is then redone). */
export const MEDIA_DOWNLOAD_ATTEMPTS = 3;
/**
 * Providers round durations to their frame rate and container timescale: 10 % or 0.5 s, whichever
 * is larger, covers that and still catches a 4 s clip delivered for an 8 s order.
 */
export const DURATION_TOLERANCE = { fraction: 0.1, minSeconds: 0.5 };
/** Relative; encoders round sizes to even (or macroblock) dimensions, about 1 % at 180 px. */
export const ASPECT_TOLERANCE = 0.02;

/** What the take asked for; absent fields (inputs from before verification) are not checked. */
export interface MediaOrder {
  seconds?: number;
  /** `WIDTHxHEIGHT`. */
  size?: string;
}

export interface VerifiedMedia {
  codec: string;
  width: number;
  height: number;
  durationSeconds: number;
  frames: number;
}

export class InvalidMediaError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'InvalidMediaError';
  }
}

function orderedAspect(size: string | undefined): number | undefined {
  const match = /^(\d+)x(\d+)$/.exec(size ?? '');
  return match && Number(match[2]) > 0 ? Number(match[1]) / Number(match[2]) : undefined;
}

/** Everything wrong with `probe` against `order`; empty when the media is good. */
export function mediaProblems(probe: MediaProbe, order: MediaOrder): string[] {
  const problems: string[] = [];
  const { video } = probe;
  if (!video) problems.push('no decodable video stream');
  if (probe.errors.length > 0) problems.push(`decoding failed: ${probe.errors.slice(0, 2).join(' / ')}`);
  if (!video) return problems;
  if (video.decodedFrames === 0) problems.push('no frame decoded');
  else if (video.declaredFrames !== undefined && video.decodedFrames < video.declaredFrames)
    problems.push(`only ${video.decodedFrames} of ${video.declaredFrames} frames decoded (cut short?)`);
  if (order.seconds !== undefined) {
    const allowed = Math.max(DURATION_TOLERANCE.minSeconds, DURATION_TOLERANCE.fraction * order.seconds);
    if (probe.durationSeconds === undefined) problems.push('no duration');
    // (a microsecond of slack: 8.8 - 8 is a hair over 0.8 in floating point)
    else if (Math.abs(probe.durationSeconds - order.seconds) > allowed + 1e-6)
      problems.push(`duration ${probe.durationSeconds.toFixed(2)} s, ordered ${order.seconds} s`);
  }
  const aspect = orderedAspect(order.size);
  if (aspect !== undefined && Math.abs(video.displayAspect - aspect) / aspect > ASPECT_TOLERANCE)
    problems.push(`aspect ${video.width}x${video.height} (${video.displayAspect.toFixed(3)}), ordered ${order.size}`);
  return problems;
}

/** Probes the file at `path`; throws `InvalidMediaError` naming every problem. */
export async function verifyMedia(path: string, order: MediaOrder): Promise<VerifiedMedia> {
  const probe = await probeMedia(path);
  const problems = mediaProblems(probe, order);
  if (problems.length > 0 || !probe.video) throw new InvalidMediaError(problems);
  const { codec, width, height, decodedFrames } = probe.video;
  return { codec, width, height, durationSeconds: probe.durationSeconds ?? 0, frames: decodedFrames };
}
