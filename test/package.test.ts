import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { temporalAddress } from './helpers/harness';
import { exited, ROOT, runProcess, spawnWorker } from './helpers/processes';

/** What the workflow bundles hold besides the project's own code. */
const SDK = ['@temporalio/worker', '@temporalio/workflow', '@temporalio/common'];

/**
 * The project's files as git lists them (tracked, and new ones it does not ignore), as they are in
 * the work tree, copied into `dir` with node_modules linked: `npm pack` there rebuilds that copy's
 * dist/, never the one the other suites run while this one packs.
 */
async function copyOfProject(dir: string): Promise<void> {
  const listed = await runProcess('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
  });
  if (listed.code !== 0) throw new Error(`git ls-files exited ${listed.code}:\n${listed.stderr}`);
  for (const file of new Set(listed.stdout.split('\0').filter(Boolean))) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the work tree, not yet in git
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(ROOT, file), join(dir, file));
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

/**
 * The package as a user gets it: `npm pack` (which builds a clean dist/) of a copy of the
 * project, the tarball installed into an empty folder, and from there its command, its types,
 * its library and the example script, which runs a series on the installed worker against the
 * jest dev server.
 */
describe('the npm package', () => {
  let source: string;
  let dir: string;
  let packed: string[];
  const bin = () => join(dir, 'node_modules', '.bin', 'sora-series');

  beforeAll(async () => {
    source = await mkdtemp(join(tmpdir(), 'sora-package-source-'));
    dir = await mkdtemp(join(tmpdir(), 'sora-package-'));
    await copyOfProject(source);
    const pack = await runProcess('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: source,
      timeoutMs: 120_000,
    });
    if (pack.code !== 0) throw new Error(`npm pack exited ${pack.code}:\n${pack.stderr}`);
    const [tarball] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packed = tarball.files.map((f) => f.path);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    const install = await runProcess(
      'npm',
      ['install', join(dir, tarball.filename), '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd: dir, timeoutMs: 180_000 },
    );
    if (install.code !== 0) throw new Error(`npm install exited ${install.code}:\n${install.stderr}`);
  }, 300_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (source) await rm(source, { recursive: true, force: true });
  });

  test('holds the compiled product, its declarations, the docs, examples and the review page, and nothing else', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/client/index.js',
        'dist/client/index.d.ts',
        'dist/client/cli.js',
        'dist/workflows/messages.js',
        'dist/workflows/messages.d.ts',
        'dist/workers/main.js',
        // The workflow bundles prepack made, so the installed worker starts without webpack.
        'dist/workers/workflow-bundles/manifest.json',
        'dist/workers/workflow-bundles/plain.js',
        'dist/workers/workflow-bundles/encrypted-failures.js',
        'docs/library.md',
        'examples/start-series.mjs',
        'examples/harbor-tales.yaml',
        // The review page's files, served as they are (client/gateway/review-page.ts).
        'client/gateway/review-page/review.html',
        'client/gateway/review-page/review.js',
        'client/gateway/review-page/review.css',
      ]),
    );
    const outside = packed.filter(
      (p) =>
        !/^(dist|docs|examples|client\/gateway\/review-page)\//.test(p) &&
        !['package.json', 'README.md', 'LICENSE'].includes(p),
    );
    expect(outside).toEqual([]);
    // No tests, tooling, local state, secrets, sources or source maps pointing at absent sources.
    expect(packed.filter((p) => /^dist\/(test|tools)\//.test(p))).toEqual([]);
    expect(packed.filter((p) => /(^|\/)(\.data|\.tools|\.env|node_modules)(\/|$)/.test(p))).toEqual([]);
    expect(packed.filter((p) => (p.endsWith('.ts') && !p.endsWith('.d.ts')) || p.endsWith('.map'))).toEqual([]);
  });

  test('the installed command runs', async () => {
    const schema = await runProcess(bin(), ['schema'], { cwd: dir });
    expect(schema).toMatchObject({ code: 0, stderr: '' });
    const jsonSchema = JSON.parse(schema.stdout);
    // one character (`character`) or a cast (`characters`): neither is required alone
    expect(jsonSchema.required).toEqual(expect.arrayContaining(['name', 'scenes']));
    expect(Object.keys(jsonSchema.properties)).toEqual(expect.arrayContaining(['character', 'characters']));
    const help = await runProcess(bin(), ['--help'], { cwd: dir });
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage:');
  });

  test('the library and the message definitions load without the worker', async () => {
    const probe = `
      const api = require('sora-series');
      const messages = require('sora-series/messages');
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify({
        api: Object.keys(api).sort(),
        messages: Object.keys(messages).sort(),
        worker: loaded.filter((m) => m.includes('@temporalio/worker')).length,
        from: require.resolve('sora-series'),
      }));`;
    const run = await runProcess(process.execPath, ['-e', probe], { cwd: dir });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const loaded = JSON.parse(run.stdout);
    expect(loaded.from).toBe(join(dir, 'node_modules', 'sora-series', 'dist', 'client', 'index.js'));
    expect(loaded.worker).toBe(0);
    expect(loaded.api).toEqual(expect.arrayContaining(['connect', 'validate', 'SeriesClient', 'SpecError']));
    expect(loaded.messages).toEqual(
      expect.arrayContaining(['pauseSignal', 'addScenesUpdate', 'raiseBudgetUpdate', 'seriesStatusQuery']),
    );
  });

  test('its types resolve and check, with module resolution node16 and node10', async () => {
    await writeFile(
      join(dir, 'consumer.ts'),
      `import { connect, SpecError, type SeriesClient, type SeriesReport, type SeriesSpecDocument } from 'sora-series';
import { pauseSignal, seriesStatusQuery, type SeriesStatusView } from 'sora-series/messages';

const spec: SeriesSpecDocument = {
  name: 'typed',
  character: { name: 'Mira', description: 'a courier', clip: 'https://cdn.example/mira.mp4' },
  scenes: [{ prompt: '@character waves', seconds: 10 }],
};
// @ts-expect-error a spec has scenes
const noScenes: SeriesSpecDocument = { name: 'typed', character: spec.character };

export async function typed(): Promise<SeriesStatusView['status']> {
  const series: SeriesClient = await connect({ temporal: { address: '127.0.0.1:7233' } });
  const { id } = await series.start(spec, { allowBudgetPause: true });
  const report: SeriesReport = await series.wait(id, { onProgress: (line, view) => void [line, view.scenesDone] });
  // @ts-expect-error routing is character, cost or stability
  await series.setRouting(id, 'fastest');
  const handle = series.temporal.workflow.getHandle(id);
  await handle.signal(pauseSignal, { reason: 'typed' });
  void [noScenes, SpecError, report.scenes[0]?.sha256];
  return (await handle.query(seriesStatusQuery)).status;
}
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const [module, moduleResolution] of [
      ['node16', 'node16'],
      ['commonjs', 'node10'],
    ]) {
      const check = await runProcess(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--module',
          module,
          '--moduleResolution',
          moduleResolution,
          '--target',
          'es2022',
          '--types',
          'node',
          '--typeRoots',
          join(ROOT, 'node_modules', '@types'),
          'consumer.ts',
        ],
        { cwd: dir },
      );
      expect({ moduleResolution, ...check }).toEqual({ moduleResolution, code: 0, stdout: '', stderr: '' });
    }
  });

  describe('the example script', () => {
    let sim: RunningSimulator;
    let env: NodeJS.ProcessEnv;
    let worker: ReturnType<typeof spawnWorker>;

    beforeAll(async () => {
      sim = await startSimulator({
        port: 0,
        seed: 11,
        jobSeconds: 0.5,
        keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
      });
      env = {
        ...SIMULATOR_KEYS,
        TEMPORAL_ADDRESS: temporalAddress(),
        SORA_SERIES_TASK_QUEUE: `package-${process.pid}-${Date.now()}`,
        SORA_SIMULATOR_URL: sim.url,
        SORA_SERIES_DATA_DIR: join(dir, 'data'),
        SORA_SERIES_POLL_MS: '100',
        SORA_SERIES_ALLOW_PRIVATE_URLS: '1', // the simulator is on loopback
      };
      // The installed package's own worker, as a user starts it.
      worker = spawnWorker(env, [bin(), 'worker']);
      await copyFile(join(dir, 'node_modules', 'sora-series', 'examples', 'start-series.mjs'), join(dir, 'start.mjs'));
    });

    afterAll(async () => {
      worker?.kill('SIGTERM');
      if (worker) expect(await exited(worker)).toBe(0);
      await sim?.close();
    });

    const writeSpec = async (name: string, scenes: unknown[]) => {
      const file = join(dir, `${name}.json`);
      const clip = `${sim.url}/clips/mira.mp4`;
      await writeFile(
        file,
        JSON.stringify({ name, character: { name: 'Mira', description: 'a courier', clip }, scenes }),
      );
      return file;
    };

    test('starts a series from a spec file and waits until it completes', async () => {
      const name = `package-${Date.now()}`;
      const spec = await writeSpec(name, [{ prompt: '@character waves' }, { prompt: '@character runs' }]);
      const run = await runProcess(process.execPath, ['start.mjs', spec], { cwd: dir, env, timeoutMs: 90_000 });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`started series/${name}`);
      expect(run.stdout).toMatch(/scene 1: completed on kling/); // progress lines from the callback, on the default chain
      expect(run.stdout).toContain(`series/${name}: completed, $1.68`);
      const manifestPath = /^manifest: (.+)$/m.exec(run.stdout)?.[1];
      expect(manifestPath).toContain(join(dir, 'data'));
      const manifest = JSON.parse(await readFile(manifestPath!, 'utf8'));
      expect(manifest.totals).toMatchObject({ scenes: 2, completed: 2, costUsd: 1.68 });
      expect(worker.output()).toMatch(/"msg":"take submitted"/);
      // The installed worker ran the bundle prepack made, unless the install resolved another SDK.
      const version = (root: string, name: string) =>
        (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
          .version;
      const sameSdk = SDK.every((name) => version(dir, name) === version(ROOT, name));
      expect(worker.output()).toContain(`"workflows":"${sameSdk ? 'prebuilt bundle' : 'bundled at start'}"`);
    }, 90_000);

    test('refuses a bad spec as the CLI does, before anything starts', async () => {
      const name = `package-bad-${Date.now()}`;
      const spec = await writeSpec(name, [{ prompt: '' }]);
      const run = await runProcess(process.execPath, ['start.mjs', spec], { cwd: dir, env });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('SpecError: invalid series spec');
      expect(run.stderr).toContain('scenes[0].prompt: must not be empty');
      expect(sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`series/${name}/`))).toEqual([]);
    });
  });
});
