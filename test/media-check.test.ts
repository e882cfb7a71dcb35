/**
 * The media tool and the verification rule: where ffmpeg/ffprobe come from, and what makes a
 * download count as the ordered video (tolerances at their edges, real files through ffprobe).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidMediaError, mediaProblems, verifyMedia } from '../activities/media-check';
import type { MediaProbe } from '../common/media-probe';
import { MediaToolNotFoundError, resolveMediaTool } from '../common/media-tools';
import { MediaRenderer } from '../simulator/media';

describe('media tools', () => {
  it('come from the npm packages, unless $FFMPEG_PATH / $FFPROBE_PATH name another binary', () => {
    const packaged = resolveMediaTool('ffprobe', { PATH: '' });
    expect(packaged).toMatch(/node_modules\/@ffprobe-installer\/[a-z0-9-]+\/ffprobe$/);
    expect(resolveMediaTool('ffmpeg', { PATH: '' })).toMatch(/node_modules\/@ffmpeg-installer\/[a-z0-9-]+\/ffmpeg$/);
    expect(resolveMediaTool('ffprobe', { FFPROBE_PATH: packaged })).toBe(packaged);
  });

  it('refuse a variable that points nowhere, naming it and the fix', () => {
    const resolve = () => resolveMediaTool('ffmpeg', { FFMPEG_PATH: '/nowhere/ffmpeg' });
    expect(resolve).toThrow(MediaToolNotFoundError);
    expect(resolve).toThrow(/FFMPEG_PATH=\/nowhere\/ffmpeg .*Point FFMPEG_PATH at a ffmpeg binary, or unset it/);
  });
});

describe('media verification', () => {
  const video = (width: number, height: number, frames = 32) => ({
    codec: 'h264',
    width,
    height,
    displayAspect: width / height,
    decodedFrames: frames,
    declaredFrames: 32,
  });
  const probe = (durationSeconds: number, v = video(320, 180)): MediaProbe => ({
    video: v,
    durationSeconds,
    errors: [],
  });

  it('allows 10 % or 0.5 s of duration, whichever is larger, and 2 % of aspect', () => {
    const landscape = { size: '1280x720' };
    expect(mediaProblems(probe(8.8), { seconds: 8, ...landscape })).toEqual([]);
    expect(mediaProblems(probe(8.9), { seconds: 8, ...landscape })).toEqual(['duration 8.90 s, ordered 8 s']);
    expect(mediaProblems(probe(3.5), { seconds: 4, ...landscape })).toEqual([]);
    expect(mediaProblems(probe(3.4), { seconds: 4, ...landscape })).toHaveLength(1);
    expect(mediaProblems(probe(4, video(182, 320)), { seconds: 4, size: '1024x1792' })).toEqual([]);
    expect(mediaProblems(probe(4, video(180, 320)), { seconds: 4, ...landscape })).toEqual([
      'aspect 180x320 (0.563), ordered 1280x720',
    ]);
    expect(mediaProblems(probe(4, video(320, 186)), { seconds: 4, ...landscape })).toHaveLength(1); // 3 % off
    expect(mediaProblems(probe(99), {})).toEqual([]); // nothing ordered (an older scene): decodable is enough
  });

  it('refuses a stream that decodes short, with errors, or not at all', () => {
    expect(mediaProblems(probe(8, video(320, 180, 16)), {})).toEqual(['only 16 of 32 frames decoded (cut short?)']);
    expect(mediaProblems({ ...probe(8), errors: ['Invalid NAL unit size'] }, {})).toEqual([
      'decoding failed: Invalid NAL unit size',
    ]);
    expect(mediaProblems({ errors: ['moov atom not found'] }, { seconds: 8 })).toEqual([
      'no decodable video stream',
      'decoding failed: moov atom not found',
    ]);
  });

  it('passes a real rendered video as ordered and names what is wrong otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'media-check-'));
    try {
      const path = join(dir, 'video');
      const subject = { title: 'SCENE 1 TAKE 1', jobId: 'video_1', prompt: 'p', source: 'official', cast: [] };
      await writeFile(path, await new MediaRenderer().video({ ...subject, seconds: 4, size: '720x1280' }));
      await expect(verifyMedia(path, { seconds: 4, size: '720x1280' })).resolves.toEqual({
        codec: 'h264',
        width: 180,
        height: 320,
        durationSeconds: 4,
        frames: 16,
      });
      const wrong = verifyMedia(path, { seconds: 8, size: '1280x720' });
      await expect(wrong).rejects.toThrow(InvalidMediaError);
      await expect(wrong).rejects.toThrow(/duration 4.00 s, ordered 8 s; aspect 180x320/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
