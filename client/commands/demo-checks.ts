import { readFile } from 'node:fs/promises';
import { sha256OfFile } from '../../common/file-hash';
import { probeMedia } from '../../common/media-probe';
import type { SeriesResult } from '../../workflows/types';

/**
 * What the demo checks in the manifest it ends with, on the files themselves: every scene's file
 * is there, is its sha256 and decodes to frames; the episode decodes to a video as long as its
 * scenes together (within 5 %), and it, the contact sheet and the posters are their sha256.
 */

type Manifest = Pick<SeriesResult, 'scenes' | 'episode' | 'contactSheet' | 'posters' | 'episodeError'>;

export const readManifest = async (path: string): Promise<Manifest> =>
  JSON.parse(await readFile(path, 'utf8')) as Manifest;

const hashOk = (path: string | undefined, sha256: string | undefined) =>
  !!path &&
  !!sha256 &&
  sha256OfFile(path).then(
    (actual) => actual === sha256,
    () => false,
  );

export interface ScenesChecked {
  ok: number;
  total: number;
  frames: number;
  /** The decoded scenes' durations added up. */
  seconds: number;
}

/** Re-hashes every completed scene's file against the manifest and decodes it (ffprobe, every frame). */
export async function verifyScenes(manifest: Manifest): Promise<ScenesChecked> {
  const checked = { ok: 0, total: manifest.scenes.length, frames: 0, seconds: 0 };
  for (const scene of manifest.scenes.filter((s) => s.status === 'completed')) {
    if (!(await hashOk(scene.assetPath, scene.sha256))) continue;
    const probe = await probeMedia(scene.assetPath!);
    if (!probe.video?.decodedFrames || probe.errors.length) continue;
    checked.ok++;
    checked.frames += probe.video.decodedFrames;
    checked.seconds += probe.durationSeconds ?? 0;
  }
  return checked;
}

/** The episode's problems, none when it is right; `scenesSeconds` is what verifyScenes added up. */
export async function episodeProblems(manifest: Manifest, scenesSeconds: number): Promise<string[]> {
  const { episode, contactSheet, posters } = manifest;
  if (!episode || !contactSheet || !posters)
    return [`no episode in the manifest${manifest.episodeError ? `: ${manifest.episodeError}` : ''}`];
  const problems: string[] = [];
  for (const [what, file] of [
    ['episode', episode],
    ['contact sheet', contactSheet],
    ...posters.map((p) => [`poster of scene ${p.index}`, p] as const),
  ] as const)
    if (!(await hashOk(file.path, file.sha256))) problems.push(`${what}: ${file.path} is missing or not its sha256`);
  const probe = await probeMedia(episode.path);
  if (!probe.video?.decodedFrames || probe.errors.length)
    problems.push(`episode: no video that decodes (${probe.errors.slice(0, 2).join(' / ') || 'no frames'})`);
  const seconds = probe.durationSeconds ?? 0;
  if (Math.abs(seconds - scenesSeconds) > 0.05 * scenesSeconds)
    problems.push(`episode: ${seconds.toFixed(2)} s, its scenes add up to ${scenesSeconds.toFixed(2)} s`);
  return problems;
}
