/**
 * Reliability measurements: tests record what they observed (kills survived, duplicate payments,
 * wasted calls, durations) as JSON lines in the file named by `RELIABILITY_OUT`, which
 * `npm run reliability` then turns into a table (tools/reliability-report.js).
 * Without `RELIABILITY_OUT` recording is a no-op, so the same tests run in `npm test` unchanged.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface Measurement {
  name: string;
  value: number | string;
  unit?: string;
  /** The test file that recorded it, when recorded under jest. */
  source?: string;
  /** ISO time of recording. */
  at: string;
}

/** The jest test file currently running, if any (jest puts `expect` on the global scope). */
function currentTestFile(): string | undefined {
  const jestExpect = (globalThis as { expect?: { getState?: () => { testPath?: string | null } } }).expect;
  const testPath = jestExpect?.getState?.().testPath;
  return testPath ? basename(testPath) : undefined;
}

/** Appends one measurement to `$RELIABILITY_OUT` (creating the file and its folder); no-op when unset. */
export function recordMeasurement(name: string, value: number | string, unit?: string): void {
  const out = process.env.RELIABILITY_OUT;
  if (!out) return;
  const file = resolve(out);
  const source = currentTestFile();
  const line: Measurement = {
    name,
    value,
    ...(unit ? { unit } : {}),
    ...(source ? { source } : {}),
    at: new Date().toISOString(),
  };
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}
