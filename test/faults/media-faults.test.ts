import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probeMedia } from '../../common/media-probe';
import type { Scenario } from '../../simulator/server';
import type { SeriesInput, SeriesResult } from '../../workflows/types';
import { seriesUnder, startHarness, type Harness } from '../helpers/harness';
import { relayAndOfficial } from '../helpers/sora-pair';
import { recordMeasurement } from '../helpers/measurements';
import { expectPaidOncePerTake } from '../helpers/payments';
import { seriesInput } from '../helpers/specs';

/**
 * Broken downloads against a real worker: a truncated, corrupt, HTML or empty file is never
 * stored as a take. Once, it is downloaded again and the scene completes with a verified asset;
 * always, every take fails with the fault named and nothing is stored.
 */
describe('media verification, series outcomes', () => {
  let h: Harness;
  let faults = 0;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial, simulator: { jobSeconds: 0.3 } });
  });
  afterAll(async () => {
    recordMeasurement('media_faults_injected', faults);
    await h?.stop();
  });

  const runUnder = (scenario: Scenario, input: SeriesInput): Promise<SeriesResult> => {
    faults++;
    return seriesUnder(h, scenario, input);
  };
  const downloads = () => {
    const calls = h.sim.calls().byEndpoint;
    return (calls['relay-v1'].file ?? 0) + (calls.official.content ?? 0);
  };
  const assetsDir = () => join(h.dataDir, 'assets');

  async function expectVerifiedAsset(path: string, sha256: string | undefined, seconds: number): Promise<void> {
    expect(
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    ).toBe(sha256);
    const probe = await probeMedia(path);
    expect([probe.errors, probe.video?.codec, probe.durationSeconds]).toEqual([[], 'h264', seconds]);
  }

  test.each(['truncated', 'corrupt', 'html', 'empty'] as const)(
    'a %s relay file once: downloaded again in the same take, the scene completes with a verified asset',
    async (kind) => {
      const input = seriesInput(h.sim.url, { providers: ['relay'] }, 1);
      const before = downloads();
      const result = await runUnder(
        { contracts: { 'relay-v1': { endpoints: { file: { media: { kind, burst: 1 } } } } } },
        input,
      );
      expect(result.status).toBe('completed');
      const [scene] = result.scenes;
      expect(scene.takes.map((t) => [t.provider, t.outcome])).toEqual([['relay', 'completed']]);
      expect(downloads() - before).toBe(2); // the broken one, then the good one
      await expectVerifiedAsset(scene.assetPath!, scene.sha256, 10);
      expectPaidOncePerTake(h.sim.ledger(), result, `series/${input.name}`);
    },
  );

  test('an HTML challenge page instead of an official video once: the same, on the official contract', async () => {
    const input = seriesInput(h.sim.url, { providers: ['official'], defaults: { seconds: 4, size: '1280x720' } }, 1);
    const result = await runUnder({ contracts: { official: { media: { kind: 'html', burst: 1 } } } }, input);
    expect(result.status).toBe('completed');
    const [scene] = result.scenes;
    expect(scene.takes.map((t) => t.outcome)).toEqual(['completed']);
    await expectVerifiedAsset(scene.assetPath!, scene.sha256, 4);
    const probe = await probeMedia(scene.assetPath!);
    expect(probe.video!.displayAspect).toBeCloseTo(16 / 9, 1);
  });

  test('a corrupt file on every download: each take fails naming the fault, nothing is stored, the scene fails', async () => {
    const input = seriesInput(h.sim.url, { providers: ['relay'] }, 1);
    const stored = new Set(await readdir(assetsDir()).catch(() => []));
    const before = downloads();
    const result = await runUnder({ contracts: { 'relay-v1': { media: { kind: 'corrupt' } } } }, input);
    const [scene] = result.scenes;
    expect([result.status, scene.status, scene.assetPath]).toEqual(['failed', 'failed', undefined]);
    expect(scene.takes.map((t) => [t.provider, t.outcome, t.costUsd])).toEqual([
      ['relay', 'failed', 0.12], // generated, so paid for, but not kept
      ['relay', 'failed', 0.12],
    ]);
    for (const take of scene.takes) {
      expect(take.reason).toMatch(/^stored copy failed: invalid media from relay \(job task_\w+\): decoding failed/);
      expect(take.assetPath).toBeUndefined();
    }
    expect(downloads() - before).toBe(2 * 3); // each take's job downloaded MEDIA_DOWNLOAD_ATTEMPTS times
    // Neither a file under a hash name nor a temp file was left behind.
    expect((await readdir(assetsDir()).catch(() => [])).filter((f) => !stored.has(f))).toEqual([]);
    expectPaidOncePerTake(h.sim.ledger(), result, `series/${input.name}`);
  }, 90_000);
});
