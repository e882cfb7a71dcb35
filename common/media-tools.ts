/**
 * Where ffmpeg and ffprobe come from, and one way to run them. The binaries ship inside npm
 * packages (`@ffmpeg-installer/ffmpeg`, `@ffprobe-installer/ffprobe`: static linux-x64 builds in
 * their platform packages, no download at install time), so `npm ci` is all a machine needs.
 * `$FFMPEG_PATH` / `$FFPROBE_PATH` win over the packages (another build, another platform), and a
 * binary on `PATH` is the last resort.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type MediaTool = 'ffmpeg' | 'ffprobe';

const ENV_VAR: Record<MediaTool, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const PACKAGE: Record<MediaTool, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

/** No usable binary: names what was tried and how to fix it. */
export class MediaToolNotFoundError extends Error {
  constructor(
    readonly tool: MediaTool,
    readonly tried: string[],
    fix = `Run \`npm install\` (the ${PACKAGE[tool]} package ships ${tool} for linux-x64 and other platforms), ` +
      `or set ${ENV_VAR[tool]} to a ${tool} binary, or put ${tool} on PATH.`,
  ) {
    super(`${tool} not found (tried ${tried.join('; ')}). ${fix}`);
    this.name = 'MediaToolNotFoundError';
  }
}

/** A run that exited non-zero (or was killed); `stderr` is its tail. */
export class MediaToolError extends Error {
  constructor(
    readonly tool: MediaTool,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${tool} exited with ${exitCode ?? 'a signal'}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'MediaToolError';
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path of `tool`: `$FFMPEG_PATH`/`$FFPROBE_PATH`, else the npm package, else `PATH`. */
export function resolveMediaTool(tool: MediaTool, env: NodeJS.ProcessEnv = process.env): string {
  const tried: string[] = [];
  const fromEnv = env[ENV_VAR[tool]];
  if (fromEnv) {
    if (executable(fromEnv)) return fromEnv;
    // A set variable that points nowhere is a mistake to report, not to paper over.
    throw new MediaToolNotFoundError(
      tool,
      [`${ENV_VAR[tool]}=${fromEnv} (not an executable file)`],
      `Point ${ENV_VAR[tool]} at a ${tool} binary, or unset it to use the one \`npm install\` brings (${PACKAGE[tool]}).`,
    );
  }
  try {
    // Loaded lazily: the installer packages throw (a string, in one of them) on platforms they have no binary for.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { path } = require(PACKAGE[tool]) as { path: string };
    if (executable(path)) return path;
    tried.push(`${PACKAGE[tool]} (${path} is not executable)`);
  } catch (err) {
    tried.push(`${PACKAGE[tool]} (${err instanceof Error ? err.message : String(err)})`);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, tool))) return join(dir, tool);
  }
  tried.push('PATH');
  throw new MediaToolNotFoundError(tool, tried);
}

const resolved = new Map<MediaTool, string>();

/** `resolveMediaTool` for this process's environment, looked up once. */
export function mediaToolPath(tool: MediaTool): string {
  let path = resolved.get(tool);
  if (path === undefined) {
    path = resolveMediaTool(tool);
    resolved.set(tool, path);
  }
  return path;
}

export interface MediaToolRun {
  stdout: Buffer;
  stderr: string;
}

const STDERR_KEEP_BYTES = 8192;

export interface MediaToolOptions {
  /** Kills the run when aborted (a cancelled activity); the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

/**
 * Runs `tool` with `args`, feeding `input` (raw frames, say) to its stdin, and collects stdout.
 * Rejects with `MediaToolError` on a non-zero exit.
 */
export function runMediaTool(
  tool: MediaTool,
  args: string[],
  input?: Iterable<Buffer> | AsyncIterable<Buffer>,
  options: MediaToolOptions = {},
): Promise<MediaToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(mediaToolPath(tool), args, { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve({ stdout: Buffer.concat(stdout), stderr });
      else reject(new MediaToolError(tool, code, stderr));
    });
    // With backpressure; a child that stops reading early (EPIPE) is reported by its exit code.
    pipeline(Readable.from(input ?? []), child.stdin).catch(() => undefined);
  });
}
