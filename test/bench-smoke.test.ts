/**
 * Smoke run of `npm run bench`: the real bench command, in its tiny mode, against the jest dev
 * server, with real worker processes and simulators. It checks the shape of the answer (every
 * field the issue names is a number), never the numbers themselves: those are the bench's job.
 *
 * The bench's own files are compiled here with swc into dist/test/bench, where `npm run bench`
 * puts them with tsc; the product they import is in dist already (`npm test` builds it first).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { transformFileSync } from '@swc/core';
import { REQUIRED_FIELDS } from './bench/report';

const ROOT = join(__dirname, '..');
const SOURCE = join(__dirname, 'bench');
const OUT = join(ROOT, 'dist', 'test', 'bench');

function compileBench(dir = SOURCE): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) compileBench(path);
    else if (name.endsWith('.ts')) {
      const { code } = transformFileSync(path, {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: false,
      });
      const target = join(OUT, relative(SOURCE, path).replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
    }
  }
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(OUT, 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The dev server jest's global setup started (test/setup/global-setup.ts). */
function temporalAddress(): string {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address)
    throw new Error(
      'TEMPORAL_TEST_ADDRESS is not set: run the tests through jest (its global setup starts the dev server)',
    );
  return address;
}

test('npm run bench -- --json (smoke sizes) answers every field as a number', async () => {
  compileBench();
  const run = await runBench(['--smoke', '--json', '--temporal-address', temporalAddress()]);
  if (run.code !== 0) throw new Error(`bench exited ${run.code}:\n${run.stderr.slice(-4000)}`);
  const report = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;
  const notNumbers: string[] = [];
  for (const [group, fields] of Object.entries(REQUIRED_FIELDS)) {
    for (const field of fields as string[]) {
      const value = report[group]?.[field];
      if (typeof value !== 'number' || !Number.isFinite(value))
        notNumbers.push(`${group}.${field} = ${JSON.stringify(value)}`);
    }
  }
  expect(notNumbers).toEqual([]);
  expect(report.machine).toEqual(
    expect.objectContaining({ cores: expect.any(Number), cpuModel: expect.any(String), node: process.version }),
  );
  // The table with targets goes to stderr beside the JSON.
  expect(run.stderr).toContain('recovery.secondsToResume');
}, 300_000);
