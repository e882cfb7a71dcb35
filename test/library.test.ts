import {
  BudgetBelowEstimateError,
  ListFilterError,
  MessageRefusedError,
  SeriesAlreadyRunningError,
  SeriesClient,
  SeriesNotFoundError,
  SpecError,
  type SeriesSpecDocument,
  type SeriesStatusView,
} from '../client';
import { startHarness, type Harness } from './helpers/harness';

/**
 * The library (`import ... from 'sora-series'`) on a real worker: each method reaches its message
 * or query, and refuses with the named errors the CLI prints. The messages' own semantics are
 * test/steering.test.ts's; the installed package is test/package.test.ts's.
 */
describe('the library: SeriesClient', () => {
  let h: Harness;
  let series: SeriesClient;
  const stamp = Date.now();

  beforeAll(async () => {
    h = await startHarness({ simulator: { jobSeconds: 1 } });
    // Validation reads the provider config and URL policy from here, as the CLI reads its environment.
    series = new SeriesClient(h.client, {
      taskQueue: h.taskQueue,
      env: { ...process.env, SORA_SIMULATOR_URL: h.sim.url, SORA_SERIES_ALLOW_PRIVATE_URLS: '1' },
    });
  });
  afterAll(async () => {
    await series?.close();
    await h?.stop();
  });

  const spec = (name: string, scenes: number, extra: Partial<SeriesSpecDocument> = {}): SeriesSpecDocument => ({
    name,
    character: {
      name: `Lib ${stamp}`,
      description: 'a courier in a yellow raincoat',
      clip: `${h.sim.url}/clips/mira.mp4`,
    },
    scenes: Array.from({ length: scenes }, (_, i) => ({ prompt: `@character takes step ${i + 1}` })),
    ...extra,
  });

  async function until(id: string, what: string, check: (status: string) => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (let last = ''; ; await new Promise((r) => setTimeout(r, 100))) {
      last = (await series.status(id)).status;
      if (check(last)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status ${last}`);
    }
  }

  test('a bad spec object is refused as start refuses a file, naming every field; nothing starts', async () => {
    const bad = { ...spec(`lib-bad-${stamp}`, 1), scenes: [{ prompt: '' }], colour: 'red' } as SeriesSpecDocument;
    const refused = await series.start(bad).catch((err: Error) => err);
    expect(refused).toBeInstanceOf(SpecError);
    expect((refused as SpecError).issues).toEqual([
      expect.stringMatching(/^scenes\[0\]\.prompt: must not be empty/),
      expect.stringContaining('unknown field "colour"'),
    ]);
    await expect(series.status(`lib-bad-${stamp}`)).rejects.toBeInstanceOf(SeriesNotFoundError);

    const tight = spec(`lib-budget-${stamp}`, 2, { budgetUsd: 0.2 });
    await expect(series.start(tight)).rejects.toBeInstanceOf(BudgetBelowEstimateError);
    await expect(series.status(tight.name)).rejects.toBeInstanceOf(SeriesNotFoundError);
  });

  test('start, steer, wait with progress, status and list', async () => {
    const name = `lib-${stamp}`;
    const started = await series.start(spec(name, 2, { budgetUsd: 5, maxParallel: 1 }));
    expect(started).toMatchObject({ id: `series/${name}`, estimate: { plannedUsd: 1.68 } });
    await expect(series.start(spec(name, 2))).rejects.toBeInstanceOf(SeriesAlreadyRunningError);

    await series.pause(name, 'library check');
    await until(name, 'paused', (s) => s === 'paused');
    expect(await series.addScenes(name, [{ prompt: '@character waves goodbye' }])).toEqual({ indexes: [3] });
    await expect(series.addScenes(name, [{ prompt: '' }])).rejects.toThrow(
      expect.objectContaining({ name: 'MessageRefusedError', message: expect.stringContaining('scenes[0].prompt') }),
    );
    await expect(series.retryScene(name, { index: 99 })).rejects.toBeInstanceOf(MessageRefusedError);
    await expect(series.reviewTake(name, { index: 99, take: 1, verdict: 'approve' })).rejects.toBeInstanceOf(
      MessageRefusedError,
    );
    expect(await series.setRouting(name, 'cost')).toEqual({ routing: 'cost', previous: 'character' });
    expect(await series.raiseBudget(name, 6)).toMatchObject({ budgetUsd: 6 });
    // Waiting on a paused series follows it through the pause until it ends.
    const lines: string[] = [];
    const views: SeriesStatusView[] = [];
    const waited = series.wait(name, {
      onProgress: (line, view) => {
        lines.push(line);
        views.push(view);
      },
    });
    for (let i = 0; i < 50 && !lines.some((l) => l.startsWith('paused')); i++)
      await new Promise((r) => setTimeout(r, 100));
    await series.resume(name);
    const report = await waited;
    expect(report).toMatchObject({ id: `series/${name}`, status: 'completed', scenesTotal: 3, scenesDone: 3 });
    expect(lines).toEqual(
      expect.arrayContaining([
        'paused (user: library check); running jobs go on',
        expect.stringMatching(/^scene 3: completed on /),
      ]),
    );
    expect(views.every((v) => v.name === name)).toBe(true);
    expect(await series.status(`series/${name}`)).toEqual(report);

    // Visibility is eventually consistent: polled.
    let rows: Awaited<ReturnType<SeriesClient['list']>>['rows'] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++, await new Promise((r) => setTimeout(r, 200)))
      rows = (await series.list({ character: `Lib ${stamp}`, status: 'completed' })).rows;
    expect(rows).toEqual([expect.objectContaining({ id: `series/${name}`, status: 'completed', scenesTotal: 3 })]);
  });

  test('unknown series and bad list filters are named errors', async () => {
    await expect(series.status(`lib-none-${stamp}`)).rejects.toBeInstanceOf(SeriesNotFoundError);
    await expect(series.wait(`lib-none-${stamp}`)).rejects.toBeInstanceOf(SeriesNotFoundError);
    await expect(series.pause(`lib-none-${stamp}`)).rejects.toBeInstanceOf(SeriesNotFoundError);
    await expect(series.list({ status: 'sleeping' })).rejects.toThrow(
      expect.objectContaining({ name: 'ListFilterError', field: 'status' }),
    );
    await expect(series.list({ limit: 0 })).rejects.toBeInstanceOf(ListFilterError);
  });
});
