import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../client/commands/table';
import { ROOT, runCli, type RunResult } from './helpers/processes';

/**
 * `--help`, `-h`, `help <command>` and `--version` of the built CLI. Nothing here may reach
 * Temporal or start anything: the address points where nobody listens.
 */
const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
const names = Object.keys(COMMANDS);

/** The CLI run once per argument list, each its own process as users run it, a few at a time. */
async function runEach(argLists: string[][], timeoutMs?: number): Promise<RunResult[]> {
  const results: RunResult[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < argLists.length; i = next++) results[i] = await runCli(argLists[i], env, timeoutMs);
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  return results;
}

describe('sora-series --help and --version', () => {
  test('--help and -h print every command of the table to stdout and exit 0', async () => {
    const [long, short, help, helpHelp, helpH] = await runEach([
      ['--help'],
      ['-h'],
      ['help'],
      ['help', '--help'],
      ['help', '-h'],
    ]);
    expect([long.code, long.stderr]).toEqual([0, '']);
    expect(long.stdout).toMatch(/^sora-series \d+\.\d+\.\d+: /);
    expect(long.stdout).toContain('usage: sora-series <command> [arguments] [options]');
    for (const name of names) {
      const line = long.stdout.split('\n').find((l) => l.startsWith(`  ${name} `) || l === `  ${name}`);
      expect([name, line?.includes(COMMANDS[name].summary)]).toEqual([name, true]);
    }
    expect(long.stdout).toContain('TEMPORAL_PROFILE');
    expect(short).toEqual(long);
    expect(help.stdout).toBe(long.stdout);
    expect(helpHelp).toEqual(long);
    expect(helpH).toEqual(long);
  });

  test('<command> --help prints its usage line, what it does, its arguments and options, and exits 0 without running it', async () => {
    const runs = await runEach(
      names.map((name) => [name, '--help']),
      20_000,
    );
    for (const [i, name] of names.entries()) {
      const spec = COMMANDS[name];
      const run = runs[i];
      expect({ name, code: run.code, stderr: run.stderr }).toEqual({ name, code: 0, stderr: '' });
      const [usage, , summary] = run.stdout.split('\n');
      expect(usage).toMatch(new RegExp(`^usage: sora-series ${name}( |$)`));
      for (const arg of spec.args) expect([name, usage.includes(`<${arg}>`)]).toEqual([name, true]);
      expect(summary).toBe(spec.summary);
      for (const option of Object.keys(spec.options ?? {}))
        expect([name, option, run.stdout.includes(`\n  --${option}`)]).toEqual([name, option, true]);
      expect(run.stdout).toContain('-h, --help');
    }
  }, 120_000);

  test('-h and help <command> say the same; help wins over arguments that would be refused', async () => {
    const [long, ...same] = await runEach([
      ['retry', '--help'],
      ['retry', '-h'],
      ['help', 'retry'],
      ['retry', 'x', '0', '--bogus', '-h'],
    ]);
    expect(long.code).toBe(0);
    for (const run of same) expect(run).toEqual(long);
  });

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'], env)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('an unknown command, or help for one, exits 2 naming the fix', async () => {
    for (const run of await runEach([
      ['strat', 'spec.yaml'],
      ['help', 'strat'],
    ])) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('unknown command "strat": run sora-series --help for the commands');
    }
  });

  test('arguments are still checked, before Temporal is contacted, and the usage is named', async () => {
    const [run, port] = await runEach([['start'], ['gateway', '--port', 'http']]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('start: missing <spec>');
    expect(run.stderr).toContain(
      'usage: sora-series start <spec> [--id ID] [--wait] [--json] [--allow-budget-pause] (sora-series start --help for more)',
    );
    expect([port.code, port.stderr]).toEqual([
      2,
      expect.stringContaining('--port: must be a port number (0-65535), got "http"'),
    ]);
  });
});
