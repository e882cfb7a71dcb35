/**
 * Worker processes of the bench: the product's worker (`dist/workers/main.js`, exactly as users
 * run it) and the bench-only no-op worker, each a child process with its output in a log file, so
 * its memory can be read from /proc and it can be SIGKILLed like a crashed machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The compiled project root: this file runs from dist/test/bench. */
export const DIST = join(__dirname, '..', '..');
export const PRODUCT_WORKER = join(DIST, 'workers', 'main.js');
export const NOOP_WORKER = join(__dirname, 'noop-worker.js');

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export interface WorkerProcess {
  name: string;
  taskQueue: string;
  pid: number;
  logFile: string;
  /** Spawn until the worker said it polls (bundling the workflow code included), in ms. */
  startMs?: number;
  child: ChildProcess;
  /** Resident memory now, in MB (VmRSS), or undefined once the process is gone. */
  rssMb(): number | undefined;
  /** Resolves once the worker polls its task queue; rejects with the log tail if it exits first. */
  ready(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (a clean shutdown), SIGKILL if it takes longer than 15 s. */
  stop(): Promise<void>;
}

/** Reads one `Vm*` line of /proc/<pid>/status in MB (Linux; undefined elsewhere or once the process is gone). */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    const kb = line ? Number(/(\d+)\s*kB/.exec(line)?.[1]) : NaN;
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time a process has used so far (user + system), in seconds; NaN once it is gone or off Linux. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux the project runs on. */
const CLOCK_TICKS = 100;

function tail(file: string, chars = 3000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-chars);
  } catch {
    return '(no log)';
  }
}

export interface SpawnOptions {
  name: string;
  entry: string;
  taskQueue: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** A line of the log that says the worker polls. */
  readyText: string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function spawnWorkerProcess(options: SpawnOptions): WorkerProcess {
  if (!existsSync(options.entry))
    throw new Error(
      `${options.entry} is missing: run the bench through \`npm run bench\` (its prebench step builds it)`,
    );
  const logFile = join(options.logDir, `${options.name}-${Date.now()}.log`);
  const out = openSync(logFile, 'a');
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [options.entry], { env: options.env, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  live.add(child);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.once('exit', () => live.delete(child));
  const worker: WorkerProcess = {
    name: options.name,
    taskQueue: options.taskQueue,
    pid: child.pid!,
    logFile,
    child,
    rssMb: () => procStatusMb(child.pid!, 'VmRSS'),
    async ready(timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (tail(logFile, 1_000_000).includes(options.readyText)) {
          worker.startMs ??= Date.now() - started;
          return;
        }
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`worker ${options.name} exited before it was ready:\n${tail(logFile)}`);
        if (Date.now() > deadline)
          throw new Error(`worker ${options.name} not ready after ${timeoutMs} ms:\n${tail(logFile)}`);
        await sleep(50);
      }
    },
    kill: (signal) => void child.kill(signal),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return worker;
}
