/**
 * Whole series on the Kling contract: a real dev server, a real worker, the Kling twin over HTTP.
 * The character is held as one element (continuity `kept`), every take is paid once, and the
 * faults a live Kling account shows end the way a user wants.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseProviderConfig } from '../activities/providers/config';
import { startSeries } from '../client/series/series-client';
import type { Scenario } from '../simulator/server';
import type { SeriesResult } from '../workflows/types';
import { seriesUnder, startHarness, type Harness } from './helpers/harness';
import { expectPaidOncePerTake } from './helpers/payments';
import { seriesInput } from './helpers/specs';

/** Kling first, then the official twin as the fallback. */
const klingThenOfficial = (simulatorUrl: string, tuning: { expectedJobSeconds?: number }) =>
  parseProviderConfig({
    providers: [
      { name: 'kling', contract: 'kling', baseUrl: `${simulatorUrl}/kling`, keyEnv: 'SORA_KLING_KEY', ...tuning },
      {
        name: 'official',
        contract: 'official',
        baseUrl: `${simulatorUrl}/v1`,
        keyEnv: 'SORA_OFFICIAL_KEY',
        ...tuning,
      },
    ],
  });

describe('a series on Kling', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ providers: (sim, tuning) => klingThenOfficial(sim.url, tuning) });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const input = (scenes: number, providers = ['kling', 'official']) =>
    seriesInput(h.sim.url, { providers, defaults: { seconds: 5, size: '1280x720' } }, scenes);
  const seriesId = (name: string) => `series/${name}`;
  const klingEntries = (name: string) =>
    h.sim.ledger().filter((e) => e.contract === 'kling' && e.idempotencyKey?.startsWith(`${seriesId(name)}/`));

  async function expectAssetsIntact(result: SeriesResult) {
    for (const scene of result.scenes.filter((s) => s.status === 'completed')) {
      const bytes = await readFile(scene.assetPath!);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(scene.sha256);
    }
  }

  test('every scene on Kling with the character kept as one element, each take billed once in units', async () => {
    const spec = input(3, ['kling']);
    const elementsBefore = h.sim.calls().byEndpoint.kling.createElement ?? 0;
    const result = await (await startSeries(h.client, spec, { taskQueue: h.taskQueue })).result();
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.status, s.provider, s.continuity])).toEqual(
      Array(3).fill(['completed', 'kling', 'kept']),
    );
    const elementId = result.character.refs.kling?.id;
    expect(elementId).toMatch(/^\d{15}$/);
    expect((h.sim.calls().byEndpoint.kling.createElement ?? 0) - elementsBefore).toBe(1);
    const entries = klingEntries(spec.name);
    expect(entries).toHaveLength(3);
    expect(entries.every((e) => e.characterIds[0] === elementId && e.prompt.includes(`@element_${elementId}`))).toBe(
      true,
    );
    // 5 s at 720p silent on kling-3.0-omni: 3 units = $0.42 a scene, the same on both sides
    expect(result.costUsd).toBeCloseTo(3 * 0.42, 6);
    expectPaidOncePerTake(h.sim.ledger(), result, seriesId(spec.name));
    await expectAssetsIntact(result);
  });

  test('answers lost after Kling accepted the task: each take found by its external id, none paid twice', async () => {
    const spec = input(3, ['kling']);
    const result = await seriesUnder(
      h,
      { contracts: { kling: { endpoints: { create: { reset: { afterHandling: true, every: 2 } } } } } },
      spec,
    );
    expect(result.status).toBe('completed');
    expect(result.scenes.every((s) => s.provider === 'kling')).toBe(true);
    const audit = expectPaidOncePerTake(h.sim.ledger(), result, seriesId(spec.name));
    expect(audit.billed).toHaveLength(3);
  });

  const fallbacks: Array<[string, Scenario]> = [
    ['the balance runs out (1102)', { contracts: { kling: { balanceExhausted: {} } } }],
    [
      'the key is revoked (1002) after the element was made',
      { contracts: { kling: { down: { status: 401, afterCalls: 3 } } } },
    ],
    [
      'the model is taken off the account (1203)',
      { contracts: { kling: { endpoints: { create: { down: { status: 404 } } } } } },
    ],
    [
      'the element is revoked once made',
      { contracts: { kling: { endpoints: { create: { revokeAllCharacters: true } } } } },
    ],
  ];
  test.each(fallbacks)(
    '%s: the series finishes on official, continuity reported per scene',
    async (_name, scenario) => {
      const spec = input(2);
      const result = await seriesUnder(h, scenario, spec);
      expect(result.status).toBe('completed');
      for (const scene of result.scenes) expect(scene).toMatchObject({ provider: 'official', continuity: 'kept' });
      expect(
        result.scenes.some((s) => s.providersDown?.includes('kling') || s.takes.some((t) => t.provider === 'kling')),
      ).toBe(true);
      // Kling refused before creating anything: nothing billed there.
      expect(klingEntries(spec.name)).toHaveLength(0);
      expectPaidOncePerTake(h.sim.ledger(), result, seriesId(spec.name));
    },
  );

  test('output moderation: the scene is rejected with the reason, billed, not retried elsewhere', async () => {
    const spec = seriesInput(
      h.sim.url,
      { providers: ['kling', 'official'], defaults: { seconds: 5, size: '1280x720' } },
      1,
    );
    spec.scenes[0].prompt = '@character walks past a forbidden door';
    const result = await seriesUnder(h, { rejectWord: 'forbidden' }, spec);
    expect(result.scenes[0]).toMatchObject({ status: 'rejected', provider: 'kling' });
    expect(result.scenes[0].reason).toMatch(/risk control/);
    expect(klingEntries(spec.name)).toHaveLength(1);
    expect(
      h.sim.ledger().some((e) => e.contract === 'official' && e.idempotencyKey?.startsWith(seriesId(spec.name))),
    ).toBe(false);
    expect(result.costUsd).toBeCloseTo(0.42, 6);
  });
});
