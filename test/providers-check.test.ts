import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { runCli } from './helpers/processes';

/** `sora-series providers check`, the built CLI against the simulator's contracts over HTTP. */
describe('providers check', () => {
  let sim: RunningSimulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    dir = await mkdtemp(join(tmpdir(), 'sora-providers-check-'));
    env = { ...SIMULATOR_KEYS, SORA_SIMULATOR_URL: sim.url, SORA_SERIES_WEBHOOK_SECRET_OFFICIAL: SECRET };
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => sim.reset());

  const check = async (extra: NodeJS.ProcessEnv = {}, args: string[] = []) => {
    const run = await runCli(['providers', 'check', '--json', ...args], { ...env, ...extra });
    return { code: run.code, stderr: run.stderr, report: run.stdout ? JSON.parse(run.stdout) : undefined };
  };
  const row = (report: { providers: Array<Record<string, unknown>> }, name: string) =>
    report.providers.find((p) => p.provider === name);

  test('good keys: every provider of the default chain usable, webhooks as configured, prices quoted, nothing spent', async () => {
    const { code, report } = await check();
    expect(code).toBe(0);
    expect(report.providers.map((p: { provider: string }) => p.provider)).toEqual([
      'kling',
      'fal',
      'seedance',
      'official',
    ]);
    // no gateway in this config: the live twins are polled; each priced its own way for a 10 s scene
    expect(row(report, 'kling')).toMatchObject({
      key: 'accepted',
      usable: true,
      webhook: { state: 'polling' },
      scene: { seconds: 10, size: '1280x720', usd: 0.84 },
    });
    expect(row(report, 'fal')).toMatchObject({
      key: 'accepted',
      usable: true,
      account: { canPay: true },
      scene: { seconds: 10, size: '720x1280', usd: 3.024 },
    });
    expect(row(report, 'seedance')).toMatchObject({
      key: 'accepted',
      usable: true,
      scene: { seconds: 10, size: '720x1280', usd: 1.512 },
    });
    expect(row(report, 'official')).toMatchObject({
      key: 'accepted',
      usable: true,
      webhook: { state: 'complete' },
      scene: { seconds: 12, size: '720x1280', usd: 1.2 },
    });
    // One free call per provider, and no spending call
    const calls = Object.values(sim.calls().byContract).reduce((sum, n) => sum + n, 0);
    expect(calls).toBe(report.providers.length);
    expect(sim.ledger()).toEqual([]);
  });

  test('a refused key and a missing key make the run exit 1, naming the fix, never printing a key', async () => {
    const wrong = 'sk-wrong-key-that-must-not-be-printed';
    const run = await runCli(['providers', 'check'], { ...env, SORA_OFFICIAL_KEY: wrong, SORA_KLING_KEY: '' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/NO {2}official \(official\) +key refused/);
    expect(run.stdout).toMatch(/kling: .*SORA_KLING_KEY is not set/);
    expect(run.stdout + run.stderr).not.toContain(wrong);
    expect(sim.ledger()).toEqual([]);
  });

  test('--spec checks only the providers of that series, so an unused broken one does not fail it', async () => {
    const spec = join(dir, 'fal-only.json');
    await writeFile(
      spec,
      JSON.stringify({
        name: 'fal-only',
        providers: ['fal'],
        character: { name: 'Mira', description: 'a courier', clip: `${sim.url}/clips/mira.mp4` },
        scenes: [{ prompt: '@character waves' }],
      }),
    );
    const { code, report } = await check({ SORA_OFFICIAL_KEY: 'sk-wrong' }, ['--spec', spec]);
    expect(code).toBe(0);
    expect(report.providers.map((p: { provider: string }) => p.provider)).toEqual(['fal']);
  });

  test('an unreachable provider and a malformed webhook secret are told apart', async () => {
    const { code, report } = await check({
      SORA_SIMULATOR_URL: 'http://127.0.0.1:9', // discard port: nothing listens
      SORA_SERIES_WEBHOOK_SECRET_OFFICIAL: 'whsec_short',
    });
    expect(code).toBe(1);
    expect(row(report, 'official')).toMatchObject({
      key: 'unreachable',
      usable: false,
      webhook: { state: 'incomplete' },
    });
  });
});
