import { sleep, waitFor } from './chaos/chaos-kit';
import { startCliStack, type CliStack } from './helpers/cli-stack';
import { runCli } from './helpers/processes';

/**
 * Steering a series from separate CLI processes, as an operator does: a worker process, the
 * simulator over HTTP, the jest dev server, and every command a new `node dist/client/cli.js`.
 */
describe('sora-series steering commands', () => {
  let stack: CliStack;
  const stamp = Date.now();

  beforeAll(async () => {
    stack = await startCliStack('cli-steer');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** Runs a command that must succeed; its stdout (a failure shows the command's stderr). */
  const ok = async (args: string[]) => {
    const run = await stack.cli(args);
    expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
    return run.stdout;
  };

  /** `list --json` rows for a character, once visibility shows what `ready` wants. */
  const listed = (args: string[], ready: (rows: Array<Record<string, unknown>>) => boolean) =>
    waitFor(
      `list ${args.join(' ')}`,
      async () => {
        const run = await stack.cli(['list', ...args, '--json']);
        expect(run.code).toBe(0);
        const rows = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
        return ready(rows) ? rows : undefined;
      },
      20_000,
      500,
    );

  test('pause, resume, add-scenes, routing, budget and cancel reach a running series; list filters it', async () => {
    stack.sim.setScenario({ jobSeconds: 3 });
    const name = `steer-${stamp}`;
    const id = `series/${name}`;
    const character = `Ines-${stamp}`;
    const spec = await stack.file(
      `${name}.json`,
      stack.spec(
        name,
        character,
        [1, 2, 3].map((n) => ({ prompt: `@character walks the pier, part ${n}` })),
        { maxParallel: 1, budgetUsd: 50 },
      ),
    );
    expect(await ok(['start', spec])).toContain(`started ${id}`);
    await stack.statusUntil(id, 'a scene submitted', () => stack.submitted(id) > 0);

    // pause: status says so, and no job is submitted while paused (longer than a job takes)
    const pause = await stack.cli(['pause', name, '--reason', 'lunch break']);
    expect(pause).toMatchObject({ code: 0, stderr: '' });
    expect(pause.stdout).toContain(`pause sent to ${id}`);
    await stack.statusUntil(id, 'paused', (s) => s.status === 'paused');
    const before = stack.submitted(id);
    await sleep(4500);
    expect(stack.submitted(id)).toBe(before);
    expect((await stack.status(id)).status).toBe('paused');
    expect(await listed(['--character', character, '--status', 'paused'], (rows) => rows.length > 0)).toEqual([
      expect.objectContaining({ id, status: 'paused' }),
    ]);

    // While paused nothing finishes, so the series is surely still there for the updates below.
    // add-scenes: valid ones get indexes (YAML or JSON); invalid ones are refused naming each field
    const yaml = await stack.file(
      'more.yaml',
      '- prompt: "@character waves from the pier"\n  seconds: 4\n  provider: official\n',
    );
    expect((await ok(['add-scenes', name, yaml])).trim()).toBe(`added to ${id}: scene 4`);
    const json = await stack.file('more.json', { scenes: [{ prompt: '@character sits down' }] });
    expect(JSON.parse(await ok(['add-scenes', id, json, '--json']))).toEqual({ id, indexes: [5] });
    const bad = await stack.file('bad.json', [{ prompt: '' }, { prompt: '@character naps', size: '640x480' }]);
    const refused = await stack.cli(['add-scenes', name, bad]);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('MessageRefusedError') });
    expect(refused.stderr).toContain('scenes[0].prompt: must not be empty');
    expect(refused.stderr).toMatch(/scenes\[1\]\.size: must be one of .*640x480/);
    const missing = await stack.cli(['add-scenes', name, `${stack.dir}/nope.yaml`]);
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/<scenes file> .*nope\.yaml: no such file/),
    });
    expect((await stack.status(id)).scenesTotal).toBe(5);

    // routing and budget: updates answer; the series refuses what it cannot do, the CLI what is not an argument
    expect((await ok(['routing', name, 'cost'])).trim()).toBe(`routing of ${id}: cost (was character)`);
    const policy = await stack.cli(['routing', name, 'cheapest']);
    expect(policy).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('<policy>: must be one of character, cost, stability, got "cheapest"'),
    });
    const lower = await stack.cli(['budget', name, '40']);
    expect(lower).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('budgetUsd: must be more than the current budget'),
    });
    const raised = await ok(['budget', name, '80']);
    expect(raised).toMatch(
      new RegExp(
        `^budget of ${id}: \\$80\\.00 \\(spent \\$\\d+\\.\\d\\d, reserved \\$\\d+\\.\\d\\d, remaining \\$\\d+\\.\\d\\d\\)`,
      ),
    );
    expect((await stack.cli(['budget', name, 'lots'])).stderr).toContain('<usd>: must be a number above 0, got "lots"');

    // retry of a scene that has not run yet is refused by the series
    const early = await stack.cli(['retry', name, '5']);
    expect(early).toMatchObject({ code: 1, stderr: expect.stringContaining('index: scene 5 has not finished') });

    const resume = await stack.cli(['resume', id]);
    expect(resume.stdout).toContain(`resume sent to ${id}`);
    await stack.statusUntil(
      id,
      'running again with a new submission',
      (s) => s.status === 'running' && stack.submitted(id) > before,
    );

    // cancel: graceful, the series ends cancelled; watch exits 1 for it
    const cancel = await stack.cli(['cancel', name, '--reason', 'enough for today']);
    expect(cancel.stdout).toContain(`cancel sent to ${id}`);
    const watch = await stack.cli(['watch', name, '--interval', '0.5']);
    expect(watch.code).toBe(1);
    expect(watch.stdout.trim().split('\n').pop()).toMatch(
      new RegExp(`^${id} ended cancelled \\(enough for today\\): \\d/5 scenes`),
    );
    expect((await stack.status(id)).status).toBe('cancelled');

    // list: by character and status (visibility is eventually consistent: polled)
    const mine = await listed(['--character', character], (rows) => rows.some((r) => r.status === 'cancelled'));
    expect(mine).toEqual([expect.objectContaining({ id, status: 'cancelled', character, scenesTotal: 5 })]);
    expect(await listed(['--character', character, '--status', 'cancelled'], (rows) => rows.length === 1)).toHaveLength(
      1,
    );
    expect(await listed(['--character', character, '--status', 'running'], () => true)).toEqual([]);
    const table = await stack.cli(['list', '--character', character]);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+DONE\s+COST\s+CHARACTER\s+PROVIDERS\s+STARTED$/);
    expect(table.stdout).toMatch(
      new RegExp(`${id}\\s+cancelled\\s+\\d/5\\s+\\$\\d+\\.\\d\\d\\s+${character}\\s+\\S+\\s+\\d{4}-\\d\\d-\\d\\dT`),
    );
    const unknown = await stack.cli(['list', '--status', 'sleeping']);
    expect(unknown).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        '--status: must be one of running, paused, awaiting_approval, completed, completed_with_rejections, cancelled, failed',
      ),
    });
  }, 180_000);

  test('append starts a streaming series by signal-with-start and adds to it; retry, review and takes; end-scenes ends it', async () => {
    stack.sim.setScenario({ jobSeconds: 1 });
    const name = `stream-${stamp}`;
    const id = `series/${name}`;
    const character = `O'Brien ${stamp}`; // a quote in a visibility query value
    // A streaming spec may start without scenes: they all come by append.
    const spec = await stack.file(`${name}.json`, stack.spec(name, character, [], { streaming: true }));
    const first = await stack.file('first.json', [
      { prompt: '@character crosses the bridge' },
      { prompt: '@character buys bread' },
    ]);
    const second = await stack.file('second.yaml', '- prompt: "@character rides home"\n');

    const started = await stack.cli(['append', spec, first]);
    expect(started).toMatchObject({ code: 0, stderr: '' });
    expect(started.stdout).toContain(`started ${id} (streaming) with 2 appended scene(s)`);
    const appended = await stack.cli(['append', spec, second]);
    expect(appended.stdout).toContain(`appended 1 scene(s) to ${id}`);
    // A streaming series waits for more scenes once these are done.
    await stack.statusUntil(id, '3 scenes done, still running', (s) => s.scenesDone === 3 && s.status === 'running');
    expect((await stack.status(id)).scenesTotal).toBe(3);

    // retry: a finished scene gets a new take; a provider the series does not use is refused
    stack.sim.setScenario({ jobSeconds: 3 });
    const retry = await stack.cli(['retry', name, '2', '--prompt', '@character crosses the bridge at night']);
    expect(retry.stdout.trim()).toBe(`scene 2 of ${id} queued for a new take`);
    const inFlight = await waitFor(
      'take 2 in flight',
      async () => {
        const run = await stack.cli(['takes', name, '2']);
        return /take 2: in flight/.test(run.stdout) ? run.stdout : undefined;
      },
      20_000,
      100,
    );
    expect(inFlight).toMatch(/take 1: completed on relay, job \S+, \$0\.12/);
    const badProvider = await stack.cli(['retry', name, '3', '--provider', 'acme']);
    expect(badProvider).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/provider: "acme" is not one of the series' providers/),
    });
    const takes = await waitFor(
      'scene 2 retaken',
      async () => {
        const run = await stack.cli(['takes', id, '2', '--json']);
        const parsed = JSON.parse(run.stdout);
        return parsed.takes.length === 2 && parsed.takes[1].outcome === 'completed' ? parsed : undefined;
      },
      30_000,
      500,
    );
    expect(takes).toMatchObject({ id, index: 2, status: 'completed' });
    expect(takes.takes.map((t: { take: number }) => t.take)).toEqual([1, 2]);

    // review: approve and reject completed takes; a take that does not exist is refused naming it
    expect((await ok(['approve', name, '2', '2', '--note', 'keeper'])).trim()).toBe(
      `scene 2 take 2 of ${id}: approved`,
    );
    expect((await ok(['reject', name, '3', '1', '--note', 'too dark'])).trim()).toBe(
      `scene 3 take 1 of ${id}: rejected`,
    );
    const noTake = await stack.cli(['approve', name, '3', '9']);
    expect(noTake).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('take: scene 3 has takes 1; name one of them'),
    });
    expect((await stack.cli(['approve', name, '3', 'first'])).stderr).toContain(
      '<take>: must be a whole number from 1, got "first"',
    );

    const text = await ok(['takes', name, '2']);
    expect(text).toMatch(new RegExp(`^${id} scene 2: completed, 2 take\\(s\\)`));
    expect(text).toMatch(
      /take 2: completed on relay, job \S+, \$0\.12\n\s+asset \S+\.mp4 sha256 [0-9a-f]{64}\n\s+review: approve - keeper/,
    );
    const noScene = await stack.cli(['takes', name, '9']);
    expect(noScene).toMatchObject({ code: 2, stderr: expect.stringContaining(`${id} has no scene 9`) });

    // end-scenes: the series completes with every scene; takes then reads the result
    expect(await ok(['end-scenes', name])).toContain(`endOfScenes sent to ${id}`);
    const watch = await stack.cli(['watch', name]);
    expect(watch.code).toBe(0);
    const done = await stack.status(id);
    expect(done).toMatchObject({ status: 'completed', scenesTotal: 3, scenesDone: 3 });
    const after = JSON.parse(await ok(['takes', name, '3', '--json']));
    expect(after.takes).toEqual([
      expect.objectContaining({ take: 1, outcome: 'completed', review: { verdict: 'reject', note: 'too dark' } }),
    ]);
    // every take was paid exactly once: 3 first takes and the retake
    expect(stack.submitted(id)).toBe(4);

    // an ended series is not started again by an append; bad scenes start nothing
    const again = await stack.cli(['append', spec, second]);
    expect(again).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`SeriesEndedError: ${id} already ended (completed)`),
    });
    const bad = await stack.file('bad-append.json', [{ prompt: ' ' }]);
    const refused = await stack.cli(['append', spec, bad, '--id', `${name}-other`]);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('scenes[0].prompt: must not be empty') });
    const none = await stack.cli(['status', `${id}-other`]);
    expect(none.stderr).toContain(`no series with id ${id}-other`);

    const rows = await listed(['--character', character, '--status', 'completed'], (r) => r.length === 1);
    expect(rows[0]).toMatchObject({ id, status: 'completed', scenesDone: 3, scenesTotal: 3, providersUsed: ['relay'] });
  }, 180_000);

  test('usage errors name the argument and exit 2, checked before Temporal is reached', async () => {
    const unreachable = { TEMPORAL_ADDRESS: '127.0.0.1:1' }; // nothing listens there: any connection attempt would fail differently
    const cases: Array<[string[], string]> = [
      [['pause'], 'pause: missing <id>'],
      [['approve', 'x', '1'], 'approve: missing <take>'],
      [['retry', 'x', '0'], '<scene>: must be a whole number from 1, got "0"'],
      [['resume', 'x', 'y'], 'resume: unexpected argument "y"'],
      [['cancel', 'x', '--force'], "cancel: Unknown option '--force'"],
      [['watch', 'x', '--interval', '0'], '--interval: must be a number above 0, got "0"'],
      [['list', '--limit', 'many'], '--limit: must be a whole number from 1, got "many"'],
      [['routing', 'x', 'fast'], '<policy>: must be one of character, cost, stability'],
      [['takes', '', '1'], '<id>: must not be empty'],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, { ...stack.env, ...unreachable });
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toContain(message);
    }
  });
});
