import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { temporalAddress } from './helpers/harness';
import { exited, runCli, spawnWorker } from './helpers/processes';
import { seriesStatusQuery } from '../workflows/messages';
import { relayAndOfficialFile } from './helpers/sora-pair';
import { PROVIDERS_FILE_ENV } from '../workflows/provider-rules';

/** The CLI and a separate worker process, as a user runs them, against the jest dev server. */
describe('sora-series CLI with a worker process', () => {
  let sim: RunningSimulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let worker: ReturnType<typeof spawnWorker>;
  let connection: Connection;

  const spec = (name: string, scenes: unknown[]) => ({
    name,
    character: { name: 'Mira', description: 'a courier in a yellow raincoat', clip: `${sim.url}/clips/mira.mp4` },
    providers: ['relay', 'official'], // the pair of this stack's providers file (prices below are theirs)
    scenes,
  });

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 3,
      jobSeconds: 0.5,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    dir = await mkdtemp(join(tmpdir(), 'sora-cli-'));
    env = {
      ...SIMULATOR_KEYS,
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_TASK_QUEUE: `cli-${Date.now()}`,
      SORA_SIMULATOR_URL: sim.url,
      [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(sim.url, dir),
      SORA_SERIES_DATA_DIR: join(dir, 'data'),
      SORA_SERIES_POLL_MS: '100',
    };
    worker = spawnWorker(env);
    connection = await Connection.connect({ address: temporalAddress() });
  });

  afterAll(async () => {
    worker?.kill('SIGTERM');
    if (worker) expect(await exited(worker)).toBe(0); // a stopped worker shuts down cleanly
    await connection?.close();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('validate prints the estimate per route', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(
      file,
      JSON.stringify(spec('cli-ok', [{ prompt: '@character waves' }, { prompt: '@character runs', seconds: 4 }])),
    );
    const run = await runCli(['validate', file], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/2 scenes/);
    expect(run.stdout).toMatch(/planned \(character routing.*\$0\.24/);
    expect(run.stdout).toMatch(/all on official: \$1\.60/); // 12 s + 4 s at $0.10
  });

  test('start --wait --json runs the series on the worker process; status --json reads it back', async () => {
    const name = `cli-${Date.now()}`;
    const file = join(dir, `${name}.json`);
    await writeFile(
      file,
      JSON.stringify(
        spec(name, [
          { id: 'wave', prompt: '@character waves' },
          { prompt: '@character runs' },
          { id: 'jump', prompt: '@character jumps' },
        ]),
      ),
    );
    const run = await runCli(['start', file, '--wait', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ id: `series/${name}`, status: 'completed', costUsd: 0.36 });
    expect(report.scenes).toHaveLength(3);
    for (const scene of report.scenes) {
      expect(scene).toEqual(
        expect.objectContaining({ status: 'completed', provider: 'relay', continuity: 'kept', costUsd: 0.12 }),
      );
      expect(scene.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(scene.assetPath).toContain(join(dir, 'data', 'assets'));
    }
    const manifest = JSON.parse(await readFile(report.manifestPath, 'utf8'));
    expect(manifest.totals).toMatchObject({ scenes: 3, completed: 3, costUsd: 0.36 });
    // The spec's scene ids are carried to the report and the manifest; a scene without one has none.
    expect(report.scenes.map((s: { id?: string }) => s.id)).toEqual(['wave', undefined, 'jump']);
    expect(manifest.scenes.map((s: { id?: string }) => s.id)).toEqual(['wave', undefined, 'jump']);
    const takes = await runCli(['takes', name, '3', '--json'], env);
    expect(JSON.parse(takes.stdout)).toMatchObject({ id: `series/${name}`, index: 3, sceneId: 'jump' });
    expect((await runCli(['takes', name, '3'], env)).stdout).toMatch(
      new RegExp(`^series/${name} scene 3 "jump": completed`),
    );

    const status = await runCli(['status', `series/${name}`, '--json'], env);
    expect(JSON.parse(status.stdout)).toEqual(report);
    expect(worker.output()).toMatch(/"msg":"take submitted"/);
    // how the worker connected, for whoever reads its log (no secret in it)
    expect(worker.output()).toMatch(/"connection":"127\.0\.0\.1:\d+ namespace default \(plaintext\)"/);
  });

  test('an invalid spec is refused with the field and the fix, and nothing starts', async () => {
    const name = `cli-bad-${Date.now()}`;
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      `name: ${name}\ncharacter: { name: Mira, description: x, clip: "ftp://host/clip.mp4" }\nscenes:\n  - prompt: ""\n  - prompt: ok\n    size: 640x480\n    colour: red\n`,
    );
    for (const command of ['validate', 'start']) {
      const run = await runCli([command, file], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('character.clip: must be an http(s) URL');
      expect(run.stderr).toContain('scenes[0].prompt: must not be empty');
      expect(run.stderr).toMatch(/scenes\[1\]\.size: .*720x1280/);
      expect(run.stderr).toMatch(/scenes\[1\]: .*colour/);
    }
    const client = new Client({ connection });
    await expect(client.workflow.getHandle(`series/${name}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(sim.ledger().filter((e) => e.prompt.includes('ok'))).toHaveLength(0);
  });

  test('a budget below the planned cost is refused before anything starts, unless pausing is allowed', async () => {
    const name = `cli-budget-${Date.now()}`;
    const file = join(dir, `${name}.json`);
    await writeFile(
      file,
      JSON.stringify({
        ...spec(name, [{ prompt: '@character waves' }, { prompt: '@character runs' }]),
        budgetUsd: 0.2,
      }),
    );
    const validate = await runCli(['validate', file], env);
    expect(validate.stdout).toMatch(/budget: \$0\.20 is BELOW the planned cost/);
    const refused = await runCli(['start', file], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /BudgetBelowEstimateError: budgetUsd: \$0\.20 is below the planned cost \$0\.24; raise budgetUsd, drop scenes, or start with --allow-budget-pause/,
    );
    const client = new Client({ connection });
    await expect(client.workflow.getHandle(`series/${name}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    const allowed = await runCli(['start', file, '--allow-budget-pause'], env);
    expect(allowed.code).toBe(0);
    const handle = client.workflow.getHandle(`series/${name}`);
    for (let i = 0; i < 100 && (await handle.query(seriesStatusQuery).catch(() => undefined))?.status !== 'paused'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const view = await handle.query(seriesStatusQuery);
    expect(view).toMatchObject({
      status: 'paused',
      paused: { by: 'budget', reason: expect.stringMatching(/^budget: scene 2 needs \$0\.12/) },
    });
    expect(view.scenesDone + view.running.length).toBe(1); // scene 1 fits the budget, scene 2 waits
    await handle.cancel();
  });

  test('schema prints the JSON Schema of the spec', async () => {
    const run = await runCli(['schema'], env);
    const schema = JSON.parse(run.stdout);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['name', 'character', 'characters', 'scenes', 'routing', 'providers']),
    );
    // character (one) or characters (a cast): the spec's own check requires exactly one of them.
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'scenes']));
  });

  test('bad usage names the flag', async () => {
    const run = await runCli(['dev', '--temporal-port', 'abc'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--temporal-port: must be a port number');
  });
});
