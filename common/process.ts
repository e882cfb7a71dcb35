/**
 * Process helpers every layer may use: free ports, short commands run to their end, children
 * that never outlive their parent, and log tails for error messages.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { createServer } from 'node:net';

const LOOPBACK = '127.0.0.1';
const STOP_GRACE_MS = 10_000;

/** A port that was free a moment ago (bind 0, read, close). */
export function freePort(host: string = LOOPBACK): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.once('error', fail);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

export interface CommandResult {
  /** The exit code; -1 when the command could not start, timed out or was killed by a signal. */
  code: number;
  /** stdout and stderr together (the error's message when there was no output). */
  output: string;
}

export interface RunCommandOptions {
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed after this long; default no limit. */
  timeoutMs?: number;
  /** Run as this user and group (the caller must be allowed to). */
  uid?: number;
  gid?: number;
}

/** Runs a short command to its end and answers with its exit code and output; never rejects. */
export function runCommand(command: string, args: string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      {
        env: options.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 0,
        maxBuffer: 16 * 1024 * 1024,
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
      },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (!err) return done({ code: 0, output });
        const code =
          typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1;
        done({ code, output: output || err.message });
      },
    );
  });
}

/** The last `count` lines of a command's output, for an error message. */
export function lastLines(output: string, count = 15): string {
  return output.trim().split('\n').slice(-count).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Children must not outlive us: an 'exit' hook covers normal exits and uncaught errors; a tiny
// shell watchdog covers the parent being killed outright (SIGKILL, OOM), which no hook sees.

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const running of live) running.kill('SIGTERM');
  });
}

const WATCHDOG = `
parent=$1; child=$2
while kill -0 "$parent" 2>/dev/null; do
  kill -0 "$child" 2>/dev/null || exit 0
  sleep 1
done
kill -TERM "$child" 2>/dev/null || exit 0
i=0
while kill -0 "$child" 2>/dev/null && [ "$i" -lt ${STOP_GRACE_MS / 1000} ]; do sleep 1; i=$((i+1)); done
kill -KILL "$child" 2>/dev/null
exit 0`;

export function startWatchdog(childPid: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'temporal-watchdog', String(process.pid), String(childPid)], {
    stdio: 'ignore',
    detached: false,
  });
  watchdog.once('error', () => undefined);
  watchdog.unref();
  return watchdog;
}

/** The last `maxBytes` of a log file from offset `from` (for error messages). */
export async function readTail(file: string, from: number, maxBytes = 6000): Promise<string> {
  try {
    const size = (await stat(file)).size;
    const start = Math.max(from, size - maxBytes);
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trimEnd();
    } finally {
      await handle.close();
    }
  } catch {
    return '(no log)';
  }
}
