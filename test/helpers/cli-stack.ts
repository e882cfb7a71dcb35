import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIMULATOR_KEYS } from '../../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../../simulator/server';
import { waitFor } from '../chaos/chaos-kit';
import { temporalAddress } from './harness';
import { relayAndOfficialFile } from './sora-pair';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';
import { exited, runCli, spawnWorker, type RunResult } from './processes';

/**
 * What the CLI suites share: the jest dev server, a simulator on a random port, one worker
 * process on its own task queue, and the built CLI run as separate processes.
 */
export interface CliStack {
  sim: RunningSimulator;
  env: NodeJS.ProcessEnv;
  dir: string;
  cli(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** Writes JSON into the stack's folder; returns the path. */
  file(name: string, value: unknown): Promise<string>;
  /** A spec for the simulator; `extra` adds spec fields. */
  spec(
    name: string,
    character: string,
    scenes: Array<Record<string, unknown>>,
    extra?: Record<string, unknown>,
  ): Record<string, unknown>;
  /** `status --json` of a series. */
  status(id: string): Promise<Record<string, unknown> & { status: string }>;
  /** Polls `status --json` until `check` holds. */
  statusUntil(
    id: string,
    what: string,
    check: (s: Record<string, unknown> & { status: string }) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Upstream jobs the simulator accepted for a series (its idempotency keys name the scene workflow). */
  submitted(id: string): number;
  stop(): Promise<void>;
}

/** `extraEnv` reaches the worker and every CLI run (e.g. codec keys). */
export async function startCliStack(prefix: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliStack> {
  const sim = await startSimulator({
    port: 0,
    seed: 5,
    jobSeconds: 1,
    jitter: 0,
    keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
  });
  const dir = await mkdtemp(join(tmpdir(), `sora-${prefix}-`));
  const env: NodeJS.ProcessEnv = {
    ...SIMULATOR_KEYS,
    TEMPORAL_ADDRESS: temporalAddress(),
    SORA_SERIES_TASK_QUEUE: `${prefix}-${process.pid}-${Date.now()}`,
    SORA_SIMULATOR_URL: sim.url,
    // its spec() names the relay and official: the pair the CLI suites are about, now out of the default chain
    [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(sim.url, dir),
    SORA_SERIES_DATA_DIR: join(dir, 'data'),
    SORA_SERIES_POLL_MS: '100',
    ...extraEnv,
  };
  const worker = spawnWorker(env);
  const cli = (args: string[], timeoutMs?: number) => runCli(args, env, timeoutMs);
  const status = async (id: string) => {
    const run = await cli(['status', id, '--json']);
    if (run.code !== 0) throw new Error(`status ${id} exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout);
  };
  return {
    sim,
    env,
    dir,
    cli,
    async file(name, value) {
      const path = join(dir, name);
      await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
      return path;
    },
    spec: (name, character, scenes, extra = {}) => ({
      name,
      character: { name: character, description: 'a courier in a yellow raincoat', clip: `${sim.url}/clips/mira.mp4` },
      providers: ['relay', 'official'],
      scenes,
      ...extra,
    }),
    status,
    statusUntil: (id, what, check, timeoutMs = 30_000) =>
      waitFor(
        `${id}: ${what}`,
        async () => {
          const s = await status(id);
          return check(s) ? s : undefined;
        },
        timeoutMs,
        300,
      ),
    submitted: (id) => sim.ledger().filter((e) => e.idempotencyKey?.startsWith(`${id}/`)).length,
    async stop() {
      worker.kill('SIGTERM');
      const code = await exited(worker);
      await sim.close();
      await rm(dir, { recursive: true, force: true });
      if (code !== 0) throw new Error(`worker exited ${code}:\n${worker.output().slice(-2000)}`);
    },
  };
}
