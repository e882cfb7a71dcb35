import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CODEC_KEYS_ENV } from '../common/codec/keys';
import { sleep, waitFor } from './chaos/chaos-kit';
import { startCliStack, type CliStack } from './helpers/cli-stack';
import { CLI, runCli } from './helpers/processes';

const ESC = String.fromCharCode(27);

/** Runs argv[1:] on a pseudo-terminal and exits with its code. */
const PTY_RUN = 'import pty, sys; status = pty.spawn(sys.argv[1:]); sys.exit(status >> 8)';

function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

/** `sora-series watch` as a separate process reading a series that runs on a worker process. */
describe('sora-series watch', () => {
  let stack: CliStack;
  const stamp = Date.now();

  beforeAll(async () => {
    stack = await startCliStack('cli-watch');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('on a non-TTY it prints plain lines when something changes, with upstream progress, and exits 0 when the series completes', async () => {
    // Long enough jobs that a heartbeat (sent every ~8 s for a 10 s heartbeat timeout) lands mid-generation.
    stack.sim.setScenario({ jobSeconds: 14 });
    const name = `watch-${stamp}`;
    const id = `series/${name}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(name, `Watcher-${stamp}`, [{ prompt: '@character waits' }, { prompt: '@character waves' }], {
        budgetUsd: 5,
      }),
    );
    expect((await stack.cli(['start', spec])).code).toBe(0);

    const watch = await stack.cli(['watch', name, '--interval', '0.3'], 90_000);
    expect(watch.stderr).toBe('');
    expect(watch.code).toBe(0);
    const lines = watch.stdout.trim().split('\n');
    expect(watch.stdout).not.toContain('\x1b['); // no cursor movement off a terminal
    // Only changes are printed: never the same line twice in a row, far fewer lines than ticks (~50).
    lines.slice(1).forEach((line, i) => expect(line).not.toBe(lines[i]));
    expect(lines.length).toBeLessThan(40);

    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${id}: running, 0/2 scenes done, \\$0\\.00 spent, \\$\\d\\.\\d\\d reserved of a \\$5\\.00 budget$`,
        ),
      ),
    );
    const progress = lines
      .map((l) => /^scene (\d) \[[#-]{20}\]\s+(\d+)% generating on relay, take 1, job (\S+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    expect(progress.map((m) => Number(m[2])).some((p) => p > 0 && p < 100)).toBe(true);
    expect(new Set(progress.map((m) => m[1]))).toEqual(new Set(['1', '2']));
    // The job ids shown are the ones the upstream billed.
    const billed = stack.sim
      .ledger()
      .filter((e) => e.idempotencyKey?.startsWith(`${id}/`))
      .map((e) => e.jobId);
    expect(billed.sort()).toEqual([...new Set(progress.map((m) => m[3]))].sort());
    expect(lines).toEqual(
      expect.arrayContaining([
        'scene 1: completed on relay, 1 take(s), $0.12',
        'scene 2: completed on relay, 1 take(s), $0.12',
      ]),
    );
    expect(lines[lines.length - 1]).toMatch(
      new RegExp(`^${id} ended completed: 2/2 scenes, \\$0\\.24, manifest: \\S+\\.json$`),
    );
  }, 120_000);

  test('--json prints one object per change, shows a pause with its reason, and exits 1 when the series ends cancelled', async () => {
    stack.sim.setScenario({ jobSeconds: 3 });
    const name = `watch-json-${stamp}`;
    const id = `series/${name}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(
        name,
        `Watcher-${stamp}`,
        [1, 2, 3].map((n) => ({ prompt: `@character counts to ${n}` })),
        { maxParallel: 1 },
      ),
    );
    expect((await stack.cli(['start', spec])).code).toBe(0);

    const watching = stack.cli(['watch', id, '--json', '--interval', '0.3'], 90_000);
    await waitFor('a job submitted', () => (stack.submitted(id) > 0 ? true : undefined), 30_000);
    expect((await stack.cli(['pause', name, '--reason', 'checking the light'])).code).toBe(0);
    await stack.statusUntil(id, 'paused', (s) => s.status === 'paused');
    await sleep(1000); // a few of the watcher's ticks
    expect((await stack.cli(['cancel', name, '--reason', 'wrong light'])).code).toBe(0);
    const watch = await watching;

    expect(watch.code).toBe(1);
    const objects = watch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    objects.slice(1).forEach((o, i) => expect(o).not.toEqual(objects[i]));
    expect(objects).toContainEqual(
      expect.objectContaining({ id, status: 'paused', paused: { by: 'user', reason: 'checking the light' } }),
    );
    const running = objects.flatMap((o) => o.running);
    expect(running).toContainEqual(
      expect.objectContaining({
        index: 1,
        provider: 'relay',
        take: 1,
        jobId: expect.any(String),
        phase: expect.any(String),
      }),
    );
    // The last object is the end, with the reason and how many scenes the series had.
    expect(objects[objects.length - 1]).toMatchObject({
      id,
      status: 'cancelled',
      ended: true,
      cancelled: { reason: 'wrong light' },
      scenesTotal: 3,
    });
  }, 120_000);

  test('on a terminal it redraws the live lines in place and keeps finished scenes above them', async () => {
    stack.sim.setScenario({ jobSeconds: 2 });
    const name = `watch-tty-${stamp}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(name, `Watcher-${stamp}`, [{ prompt: '@character hums' }, { prompt: '@character sings' }], {
        maxParallel: 1,
      }),
    );
    expect((await stack.cli(['start', spec])).code).toBe(0);
    // A pseudo-terminal (Python's pty, Python 3 being a project requirement) makes stdout a TTY for the CLI.
    const run = await runProcess(
      'python3',
      ['-c', PTY_RUN, process.execPath, CLI, 'watch', name, '--interval', '0.3'],
      stack.env,
    );
    expect(run.code).toBe(0);
    const screen = run.stdout.replace(/\r\n/g, '\n');
    expect(screen).toMatch(new RegExp(`${ESC}\\[\\d+A${ESC}\\[0J`)); // up over the last frame, clear it
    expect(screen).toContain('scene 1: completed on relay, 1 take(s), $0.12');
    expect(screen.trimEnd().split('\n').pop()).toMatch(new RegExp(`series/${name} ended completed: 2/2 scenes`));
  }, 60_000);

  test('shows scenes awaiting review; an approval from another process lets the series complete', async () => {
    stack.sim.setScenario({ jobSeconds: 1 });
    const name = `watch-review-${stamp}`;
    const id = `series/${name}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(name, `Watcher-${stamp}`, [{ prompt: '@character bows' }], { approval: 'required' }),
    );
    expect((await stack.cli(['start', spec])).code).toBe(0);

    const watching = stack.cli(['watch', name, '--interval', '0.3'], 60_000);
    await stack.statusUntil(id, 'awaiting approval', (s) => s.status === 'awaiting_approval');
    await sleep(1000); // a few of the watcher's ticks
    const approve = await stack.cli(['approve', name, '1', '1']);
    expect(approve).toMatchObject({ code: 0, stderr: '' });
    const watch = await watching;

    expect(watch).toMatchObject({ code: 0, stderr: '' });
    const lines = watch.stdout.trim().split('\n');
    expect(lines).toContain(`${id}: awaiting_approval, 1/1 scenes done, $0.12 so far`);
    expect(lines).toContainEqual(expect.stringMatching(/^awaiting review: scene 1 \(/));
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^${id} ended completed: 1/1 scenes`));
  }, 60_000);

  test('prints the link to the review page first when the gateway URL is known (not with --json); a bad URL is named', async () => {
    stack.sim.setScenario({ jobSeconds: 1 });
    const name = `watch-link-${stamp}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(name, `Watcher-${stamp}`, [{ prompt: '@character nods' }]),
    );
    expect((await stack.cli(['start', spec])).code).toBe(0);
    const linked = { ...stack.env, SORA_SERIES_GATEWAY_URL: 'https://review.example/gateway/' };

    const watch = await runCli(['watch', name, '--interval', '0.3'], linked, 60_000);
    expect(watch).toMatchObject({ code: 0, stderr: '' });
    const lines = watch.stdout.trim().split('\n');
    expect(lines[0]).toBe(`review: https://review.example/gateway/review/${name}`);
    expect(lines.filter((l) => l.startsWith('review:'))).toHaveLength(1);
    const json = await runCli(['watch', name, '--json'], linked);
    expect(json.code).toBe(0);
    for (const line of json.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    // Without the variable, and Temporal not at the dev stack's address: no link.
    expect((await stack.cli(['watch', name])).stdout).not.toContain('review:');

    const bad = await runCli(['watch', name], {
      ...stack.env,
      SORA_SERIES_GATEWAY_URL: 'http://127.0.0.1:7071/?token=x',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^sora-series: GatewayUrlError: SORA_SERIES_GATEWAY_URL: must not carry a user, password, query or fragment/,
    );
    expect(bad.stdout).toBe('');
  }, 60_000);

  test('an unknown series is named and exits 2', async () => {
    const run = await stack.cli(['watch', `nobody-${stamp}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`no series with id series/nobody-${stamp}`);
  });
});

describe('sora-series watch with encrypted payloads', () => {
  let stack: CliStack;
  const stamp = Date.now();

  beforeAll(async () => {
    stack = await startCliStack('cli-watch-codec', { [CODEC_KEYS_ENV]: `k1:${randomBytes(32).toString('base64')}` });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('upstream progress is read from heartbeat details through the codec', async () => {
    stack.sim.setScenario({ jobSeconds: 3 });
    const name = `watch-codec-${stamp}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(name, `Cipher-${stamp}`, [{ prompt: '@character whispers' }]),
    );
    expect((await stack.cli(['start', spec])).code).toBe(0);
    const watch = await stack.cli(['watch', name, '--interval', '0.3']);
    expect(watch).toMatchObject({ code: 0, stderr: '' });
    // A percentage (not "?%") means the encrypted heartbeat details were decoded.
    expect(watch.stdout).toMatch(/^scene 1 \[[#-]{20}\]\s+\d+% generating on relay, take 1, job \S+$/m);
    expect(watch.stdout).toMatch(/ended completed: 1\/1 scenes/);
  }, 60_000);
});
