/**
 * The episode of a series on a real dev server, a real worker and the simulator over HTTP, with
 * the real ffmpeg and ffprobe: cut as the series ends (completed, cancelled), on demand while it
 * runs and after it ended, anew after a retake, across scene sizes; and `sora-series cut` from a
 * separate CLI process. The cut itself, file by file, is test/episode-cut.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contactSheetLayout } from '../activities/episode/contact-sheet';
import { cutEpisode, EpisodeCutFailedError } from '../client/series/episode';
import { startSeries } from '../client/series/series-client';
import { cancelSeries, retryScene, reviewTake } from '../client/series/steering';
import { probeMedia } from '../common/media-probe';
import { episodeRequestOf, episodeWorkflowIdOf, NothingToCutError } from '../workflows/episode-request';
import { seriesStatusQuery, type SeriesStatusView } from '../workflows/messages';
import type { EpisodeFiles, SeriesInput, SeriesResult } from '../workflows/types';
import { waitFor } from './chaos/chaos-kit';
import { startCliStack, type CliStack } from './helpers/cli-stack';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';
import { seriesInput } from './helpers/specs';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const pngSize = (bytes: Buffer) => ({ width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) });

/** Every file of a cut is its sha256, the episode decodes to the sum of its scenes' durations (within 5 %). */
async function expectSound(files: EpisodeFiles, scenePaths: string[]) {
  for (const file of [files.episode, files.contactSheet, ...files.posters])
    expect([file.path, sha256(await readFile(file.path))]).toEqual([file.path, file.sha256]);
  let sum = 0;
  for (const path of scenePaths) sum += (await probeMedia(path)).durationSeconds ?? 0;
  const probe = await probeMedia(files.episode.path);
  expect(probe.errors).toEqual([]);
  expect(probe.video?.decodedFrames).toBeGreaterThan(0);
  expect(Math.abs((probe.durationSeconds ?? 0) - sum) / sum).toBeLessThan(0.05);
  expect(files.episode.seconds).toBeCloseTo(probe.durationSeconds ?? 0, 3);
  const sheet = await readFile(files.contactSheet.path);
  expect(sheet.subarray(1, 4).toString('latin1')).toBe('PNG');
  const { width, height } = contactSheetLayout(scenePaths.length, files.episode);
  expect(pngSize(sheet)).toEqual({ width, height });
}

describe('the episode of a series', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => h.sim.setScenario({}));

  const start = async (input: SeriesInput) =>
    (await startSeries(h.client, input, { taskQueue: h.taskQueue })).workflowId;
  const result = (id: string) => h.client.workflow.getHandle(id).result() as Promise<SeriesResult>;
  const manifestOf = async (r: SeriesResult) => JSON.parse(await readFile(r.manifestPath, 'utf8')) as SeriesResult;
  const until = (id: string, what: string, check: (view: SeriesStatusView) => boolean) =>
    waitFor(
      `${id}: ${what}`,
      async () => {
        const view = await h.client.workflow
          .getHandle(id)
          .query(seriesStatusQuery)
          .catch(() => undefined);
        return view && check(view) ? view : undefined;
      },
      60_000,
      100,
    );
  /** The activities a workflow scheduled, by type. */
  const scheduled = async (id: string) =>
    ((await h.client.workflow.getHandle(id).fetchHistory()).events ?? []).flatMap((e) => {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      return type ? [type] : [];
    });

  test('a series ends with its episode, contact sheet and posters in the manifest; cut afterwards answers the same', async () => {
    const id = await start(seriesInput(h.sim.url, {}, 3));
    const done = await result(id);
    expect(done.status).toBe('completed');
    const manifest = await manifestOf(done);
    expect(manifest.episode).toEqual(done.episode);
    expect(manifest.contactSheet).toEqual(done.contactSheet);
    expect(manifest.posters).toEqual(done.posters);
    const files = done as EpisodeFiles & SeriesResult;
    expect(files.episode).toMatchObject({ joined: 'concat', width: 180, height: 320 });
    expect(files.episode.scenes.map((s) => [s.index, s.take, s.sha256])).toEqual(
      done.scenes.map((s) => [s.index, 1, s.sha256]),
    );
    expect(files.posters.map((p) => p.index)).toEqual([1, 2, 3]);
    await expectSound(
      files,
      done.scenes.map((s) => s.assetPath!),
    );
    expect(pngSize(await readFile(files.contactSheet.path))).toEqual({ width: 572, height: 376 });
    // The series cut it as a child under the id of exactly these takes.
    const episodeId = episodeWorkflowIdOf(episodeRequestOf(id, done.scenes));
    const child = await h.client.workflow.getHandle(episodeId).describe();
    expect(child.parentExecution?.workflowId).toBe(id);

    // On demand, the finished series' cut is that one: nothing is cut again.
    const again = await cutEpisode(h.client, id);
    expect(again).toMatchObject({ id: episodeId, seriesId: id, episode: files.episode, posters: files.posters });
    expect((await h.client.workflow.getHandle(episodeId).describe()).runId).toBe(child.runId);
  });

  test('after a retake and its approval, cut makes a new episode; the series ends with it', async () => {
    const id = await start(seriesInput(h.sim.url, { approval: 'required' }, 2));
    await until(id, 'awaiting approval', (v) => v.status === 'awaiting_approval');
    const before = await cutEpisode(h.client, id); // a running series: the scenes done so far
    expect(before.episode.scenes.map((s) => [s.index, s.take])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    await reviewTake(h.client, id, { index: 2, take: 1, verdict: 'reject' });
    await retryScene(h.client, id, { index: 2, prompt: '@character tries it again by the sea' });
    await until(id, 'the retake', (v) => v.scenes.find((s) => s.index === 2)?.takes.length === 2 && !v.running.length);
    await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'approve' });
    await reviewTake(h.client, id, { index: 2, take: 2, verdict: 'approve' });
    const done = await result(id);
    expect(done.status).toBe('completed');
    expect(done.episode!.scenes.map((s) => [s.index, s.take])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(done.episode!.sha256).not.toBe(before.episode.sha256);
    const after = await cutEpisode(h.client, id);
    expect(after.id).not.toBe(before.id);
    expect(after.episode).toEqual(done.episode);
    expect((await manifestOf(done)).episode).toEqual(done.episode);
    await expectSound(after, [done.scenes[0].assetPath!, done.scenes[1].assetPath!]);
    // The first cut is still there, untouched: content-addressed files are never rewritten with other bytes.
    expect(sha256(await readFile(before.episode.path))).toBe(before.episode.sha256);
  });

  test('takes cut on demand before the end are the series` own cut too: the same files, made by the same activity', async () => {
    const id = await start(seriesInput(h.sim.url, { approval: 'required' }, 1));
    await until(id, 'awaiting approval', (v) => v.status === 'awaiting_approval');
    const early = await cutEpisode(h.client, id);
    await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'approve' });
    const done = await result(id);
    expect(done.episode).toEqual(early.episode);
    expect(done.contactSheet).toEqual(early.contactSheet);
    // The child's id was taken by the on-demand cut: the series ran the cut activity itself.
    expect(await scheduled(id)).toContain('cutEpisode');
  });

  test('a take changed on disk fails the cut by name; the series still ends, its manifest saying why', async () => {
    const id = await start(seriesInput(h.sim.url, { approval: 'required' }, 2));
    const view = await until(id, 'awaiting approval', (v) => v.status === 'awaiting_approval');
    const scene = view.scenes.find((s) => s.index === 2)!;
    await writeFile(scene.assetPath!, Buffer.from('not the stored video'));
    const failed = await cutEpisode(h.client, id).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(EpisodeCutFailedError);
    expect((failed as Error).message).toMatch(/scene 2: \S+ has sha256 [0-9a-f]{64}, stored as [0-9a-f]{64}/);
    await reviewTake(h.client, id, { index: 1, take: 1, verdict: 'approve' });
    await reviewTake(h.client, id, { index: 2, take: 1, verdict: 'approve' });
    const done = await result(id);
    expect(done.status).toBe('completed');
    expect(done.episode).toBeUndefined();
    expect(done.episodeError).toMatch(/^scene 2: .* has sha256/);
    expect((await manifestOf(done)).episodeError).toBe(done.episodeError);
  });

  test('scenes of different sizes are joined re-encoded, letterboxed to the first, with the right duration', async () => {
    const input = seriesInput(h.sim.url, {}, 3);
    input.scenes[1].size = '1280x720'; // only the official provider makes landscape
    const done = await result(await start(input));
    expect(done.status).toBe('completed');
    expect(done.scenes.map((s) => s.provider)).toEqual(['relay', 'official', 'relay']);
    expect(done.episode).toMatchObject({ joined: 'reencode', width: 180, height: 320 });
    await expectSound(
      done as SeriesResult & EpisodeFiles,
      done.scenes.map((s) => s.assetPath!),
    );
    const posters = await Promise.all(done.posters!.map(async (p) => pngSize(await readFile(p.path))));
    expect(posters).toEqual([
      { width: 180, height: 320 },
      { width: 320, height: 180 },
      { width: 180, height: 320 },
    ]);
  });

  test('a cancelled series cuts the scenes it completed; a series with none has nothing to cut', async () => {
    h.sim.setScenario({ jobSeconds: 2 });
    const id = await start(seriesInput(h.sim.url, { maxParallel: 1 }, 3));
    await until(id, 'a scene done', (v) => v.scenesDone >= 1);
    await cancelSeries(h.client, id, 'enough');
    const cancelled = await result(id);
    expect(cancelled.status).toBe('cancelled');
    const completed = cancelled.scenes.filter((s) => s.status === 'completed');
    expect(cancelled.episode?.scenes.map((s) => s.index)).toEqual(completed.map((s) => s.index));

    h.sim.setScenario({ rejectWord: 'FORBIDDEN' });
    const rejected = seriesInput(h.sim.url, {}, 1);
    rejected.scenes[0].prompt = '@character does something FORBIDDEN';
    const none = await result(await start(rejected));
    expect(none.status).toBe('completed_with_rejections');
    expect(none.episode).toBeUndefined();
    await expect(cutEpisode(h.client, `series/${rejected.name}`)).rejects.toThrow(NothingToCutError);
  });
});

describe('sora-series cut', () => {
  let stack: CliStack;
  beforeAll(async () => {
    stack = await startCliStack('cli-cut');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('prints episode: <path>, copies it with --out, answers JSON with --json; refuses a series with nothing to cut', async () => {
    const name = `cut-${Date.now()}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(name, 'Mira', [{ prompt: '@character waves from the pier' }, { prompt: '@character rows out' }]),
    );
    expect(await stack.cli(['start', spec, '--wait'])).toMatchObject({ code: 0, stderr: '' });
    const out = join(stack.dir, 'episode.mp4');
    const text = await stack.cli(['cut', name, '--out', out]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const path = /^episode: (\S+)$/m.exec(text.stdout)?.[1];
    expect(path).toMatch(/\/episodes\/[0-9a-f]{64}\.mp4$/);
    expect(text.stdout).toMatch(/^contact sheet: \S+\.png$/m);
    expect(text.stdout).toContain(`copied to ${out}`);
    const copied = await readFile(out);
    expect(sha256(copied)).toBe(sha256(await readFile(path!)));

    const json = await stack.cli(['cut', `series/${name}`, '--json']);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const cut = JSON.parse(json.stdout) as EpisodeFiles & { id: string; seriesId: string };
    expect(cut).toMatchObject({ seriesId: `series/${name}`, episode: { path, sha256: sha256(copied) } });
    expect(cut.id).toMatch(new RegExp(`^series/${name}/episode-[0-9a-f]{16}$`));
    expect(cut.posters).toHaveLength(2);
    // The status of the finished series names its episode too.
    expect((await stack.status(name)).episode).toMatchObject({ path, sha256: cut.episode.sha256 });

    stack.sim.setScenario({ rejectWord: 'FORBIDDEN' });
    const refusedName = `cut-none-${Date.now()}`;
    const refused = await stack.file(
      `${refusedName}.json`,
      stack.spec(refusedName, 'Mira', [{ prompt: '@character does something FORBIDDEN' }]),
    );
    expect((await stack.cli(['start', refused, '--wait'])).code).toBe(0); // completed_with_rejections
    const nothing = await stack.cli(['cut', refusedName]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain(`NothingToCutError: series/${refusedName}: no scene has a completed take`);
    expect((await stack.cli(['cut', `missing-${Date.now()}`])).code).toBe(2);
  });
});
