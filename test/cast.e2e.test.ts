import { readFile } from 'node:fs/promises';
import { profilesOf } from '../activities/providers/registry';
import { defineCharacter, ensureCharacterHandle, showCharacter } from '../client/series/characters';
import { seriesReport, startSeries } from '../client/series/series-client';
import { sceneTakes } from '../client/series/takes';
import { listSeries, seriesQuery } from '../client/series/list';
import { formatReport } from '../client/commands/run';
import { formatTakes } from '../client/commands/takes';
import { parseSpec, SpecError } from '../client/spec/parse-spec';
import { toSeriesInput } from '../client/spec/series-input';
import type { CharacterDefinition } from '../workflows/messages';
import type { SeriesResult } from '../workflows/types';
import { waitFor } from './chaos/chaos-kit';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';

/** Series whose cast comes from the library, on a real dev server, a real worker and the simulator. */
describe('a series with several characters from the library', () => {
  let h: Harness;
  let serial = 0;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => h.sim.setScenario({}));

  const unique = (base: string) => `${base}-${process.pid}-${Date.now() % 100000}-${++serial}`;
  const character = (name: string, clip = name.split('-')[0]): CharacterDefinition => ({
    name,
    description: `${name.split('-')[0]}, a courier in a yellow raincoat`,
    clip: `${h.sim.url}/clips/${clip}.mp4`,
  });
  const inputOf = (spec: Record<string, unknown>) =>
    toSeriesInput(
      parseSpec({ name: unique('cast'), providers: ['relay', 'official'], ...spec }, undefined, {
        profiles: profilesOf(relayAndOfficial(h.sim)),
      }),
    );
  const run = async (input: ReturnType<typeof inputOf>): Promise<SeriesResult> =>
    (await startSeries(h.client, input, { taskQueue: h.taskQueue })).result();
  const creations = () => {
    const { byEndpoint } = h.sim.calls();
    return { relay: byEndpoint['relay-v1'].createCharacter ?? 0, official: byEndpoint.official.createCharacter ?? 0 };
  };
  const jobsOf = (input: { name: string }) => h.sim.ledger().filter((e) => e.idempotencyKey?.includes(input.name));

  test('two characters (one from the library, one inline): every scene holds each one it names, kept; the manifest has the cast', async () => {
    const tom = unique('tom');
    const mira = unique('mira');
    await defineCharacter(h.client, character(tom), { taskQueue: h.taskQueue });
    const input = inputOf({
      characters: [tom, character(mira)],
      scenes: [
        { prompt: `@${mira} hands @${tom} the letter at the pier` },
        { prompt: `@${tom} reads the letter alone` },
        { prompt: `@${mira} runs along the harbor wall` },
      ],
    });
    const before = creations();
    const result = await run(input);
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.provider, s.continuity, s.continuityByCharacter])).toEqual([
      ['relay', 'kept', { [tom]: 'kept', [mira]: 'kept' }],
      ['relay', 'kept', { [tom]: 'kept' }],
      ['relay', 'kept', { [mira]: 'kept' }],
    ]);
    // One handle per character on the relay, made once for all three scenes.
    expect(creations()).toEqual({ relay: before.relay + 2, official: before.official });
    // Scenes run in parallel: read the ledger in scene order.
    const jobs = jobsOf(input).sort((x, y) => x.idempotencyKey!.localeCompare(y.idempotencyKey!));
    expect(jobs.map((e) => e.characterIds.length)).toEqual([2, 1, 1]);
    expect(jobs[0].prompt).toMatch(/^@char_\w+ hands @char_\w+ the letter at the pier$/);
    // The report (status --json, GET /series/{id}), its text, and the takes of a scene say it per character.
    const report = await seriesReport(h.client, `series/${input.name}`);
    expect(report.scenes[0].continuityByCharacter).toEqual({ [tom]: 'kept', [mira]: 'kept' });
    expect(formatReport(report)).toContain(`scene 1: completed on relay (${tom} kept, ${mira} kept)`);
    const takes = await sceneTakes(h.client, `series/${input.name}`, 1);
    expect(formatTakes(takes)).toContain(`1 take(s), continuity ${tom} kept, ${mira} kept`);
    const manifest = JSON.parse(await readFile(result.manifestPath, 'utf8'));
    expect(manifest.cast.map((c: { name: string; refs: object }) => [c.name, Object.keys(c.refs)])).toEqual([
      [tom, ['relay']],
      [mira, ['relay']],
    ]);
    expect(manifest.scenes[0].continuityByCharacter).toEqual({ [tom]: 'kept', [mira]: 'kept' });
    // The library knows where its characters appear; the series told it when it ended.
    const view = await showCharacter(h.client, mira);
    expect(view.series).toEqual([expect.objectContaining({ id: `series/${input.name}`, running: false })]);
    // The Web UI finds the series and every scene a character appears in.
    const found = await waitFor(
      'Characters search attribute',
      async () => {
        const ids: string[] = [];
        for await (const wf of h.client.workflow.list({ query: `Characters = '${tom}'` })) ids.push(wf.workflowId);
        return ids.length >= 4 ? ids.sort() : undefined;
      },
      15_000,
    );
    const listed = await listSeries(h.client, seriesQuery({ character: mira }), 10);
    expect(listed.rows.map((r) => [r.id, r.character])).toEqual([[`series/${input.name}`, `${tom}, ${mira}`]]);
    expect(found).toEqual([
      `character/${tom}`,
      `series/${input.name}`,
      `series/${input.name}/scene-1`,
      `series/${input.name}/scene-2`,
    ]);
  });

  test('relay down: a scene with both characters falls back to official with both kept', async () => {
    const a = unique('ana');
    const b = unique('ben');
    h.sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403 } } } });
    const input = inputOf({
      characters: [character(a, 'mira'), character(b, 'tom')],
      scenes: [{ prompt: `@${a} and @${b} share an umbrella`, seconds: 8 }],
    });
    const result = await run(input);
    expect(result.status).toBe('completed');
    expect(result.scenes[0]).toMatchObject({
      provider: 'official',
      continuity: 'kept',
      continuityByCharacter: { [a]: 'kept', [b]: 'kept' },
    });
    const [job] = jobsOf(input).filter((e) => e.contract === 'official');
    expect(job.characterIds).toHaveLength(2);
    expect(job.prompt).toBe(`${a} and ${b} share an umbrella`);
  });

  test('five series started at once share one new character: one creation per provider', async () => {
    const shared = unique('kit');
    const inputs = Array.from({ length: 5 }, () =>
      inputOf({
        characters: [character(shared, 'mira')],
        scenes: [
          { prompt: `@${shared} on the relay`, provider: 'relay' },
          { prompt: `@${shared} on official`, provider: 'official', seconds: 8 },
        ],
        maxParallel: 2,
      }),
    );
    const before = creations();
    const results = await Promise.all(inputs.map(run));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('completed'));
    expect(results.flatMap((r) => r.scenes.map((s) => s.continuity))).toEqual(Array(10).fill('kept'));
    const made = creations();
    expect({ relay: made.relay - before.relay, official: made.official - before.official }).toEqual({
      relay: 1,
      official: 1,
    });
    const view = await showCharacter(h.client, shared);
    expect(view.handles.map((x) => [x.provider, x.state])).toEqual(
      expect.arrayContaining([
        ['relay', 'ready'],
        ['official', 'ready'],
      ]),
    );
    expect(view.series.map((s) => s.id).sort()).toEqual(inputs.map((i) => `series/${i.name}`).sort());
    // Every series used the same handle on each provider.
    const ids = new Set(results.flatMap((r) => r.cast!.map((c) => c.refs.relay?.id)));
    expect(ids.size).toBe(1);
  });

  test('a handle the relay revoked is made again once, and the scenes go on kept', async () => {
    const name = unique('rev');
    await defineCharacter(h.client, character(name, 'mira'), { taskQueue: h.taskQueue });
    const first = await ensureCharacterHandle(h.client, name, 'relay');
    h.sim.setScenario({ contracts: { 'relay-v1': { revokedCharacters: [first.ref!.id] } } });
    const before = creations();
    const input = inputOf({
      characters: [name],
      scenes: [1, 2, 3].map((i) => ({ prompt: `@${name} scene ${i}`, provider: 'relay' })),
      maxParallel: 3,
    });
    const result = await run(input);
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.provider, s.continuity])).toEqual(Array(3).fill(['relay', 'kept']));
    expect(creations().relay - before.relay).toBe(1);
    const view = await showCharacter(h.client, name);
    const relay = view.handles.find((x) => x.provider === 'relay')!;
    expect(relay).toMatchObject({ state: 'ready', recreations: 1 });
    expect(relay.ref!.id).not.toBe(first.ref!.id);
    // Every delivered take used the new handle.
    const completed = jobsOf(input).filter((e) => e.finalStatus === 'completed');
    expect(completed.every((e) => e.characterIds.join() === relay.ref!.id)).toBe(true);
  });

  test('at start: a library name that is not there, or an inline definition that differs, starts nothing', async () => {
    const missing = unique('ghost');
    const input = inputOf({ characters: [missing], scenes: [{ prompt: `@${missing} waves` }] });
    const refused = await startSeries(h.client, input, { taskQueue: h.taskQueue }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpecError);
    expect((refused as SpecError).issues).toEqual([
      expect.stringMatching(new RegExp(`^characters\\[0\\]: no character "${missing}" in the library; create it`)),
    ]);
    const stored = unique('lee');
    await defineCharacter(h.client, character(stored, 'mira'), { taskQueue: h.taskQueue });
    const differs = inputOf({
      characters: [{ ...character(stored, 'mira'), description: 'someone else entirely' }],
      scenes: [{ prompt: `@${stored} waves` }],
    });
    const second = await startSeries(h.client, differs, { taskQueue: h.taskQueue }).catch((e: unknown) => e);
    expect((second as SpecError).issues).toEqual([
      expect.stringMatching(/^characters\[0\]: character ".*" exists with a different description/),
    ]);
    for (const name of [input.name, differs.name])
      await expect(h.client.workflow.getHandle(`series/${name}`).describe()).rejects.toThrow(/not found/i);
  });
});
