/**
 * CLI: run the simulator as a process, for `dev`/`demo` runs and manual fault drills.
 *
 *   node dist/simulator/main.js --port 7070 --seed 1 --job-seconds 2 [--scenario drill.json]
 *
 * Keys come from the environment (SIM_OFFICIAL_KEY, SIM_RELAY_KEY, SIM_FAL_KEY), never from flags, so they stay
 * out of shell history and process listings. Prints one JSON line `{"simulator": url}` when ready.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SimulatorOptionsError } from './errors';
import { parseScenario } from './scenario';
import { SIM_FAL_KEY, startSimulator, type SimulatorOptions } from './server';

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new SimulatorOptionsError(`--${flag} expects a number, got '${value}'`);
  return parsed;
}

/** Options from argv (without node and script) and the environment. */
export function parseCliOptions(argv: readonly string[], env: NodeJS.ProcessEnv): SimulatorOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'job-seconds': { type: 'string' },
      jitter: { type: 'string' },
      'content-ttl-seconds': { type: 'string' },
      scenario: { type: 'string' },
    },
    strict: true,
  });
  return {
    port: numberFlag(values.port, 'port') ?? 0,
    host: values.host ?? '127.0.0.1',
    seed: numberFlag(values.seed, 'seed'),
    jobSeconds: numberFlag(values['job-seconds'], 'job-seconds'),
    jitter: numberFlag(values.jitter, 'jitter'),
    contentTtlSeconds: numberFlag(values['content-ttl-seconds'], 'content-ttl-seconds'),
    scenario:
      values.scenario === undefined ? undefined : parseScenario(JSON.parse(readFileSync(values.scenario, 'utf8'))),
    keys: {
      official: env.SIM_OFFICIAL_KEY || 'sk-sim-official',
      relay: env.SIM_RELAY_KEY || 'sk-sim-relay',
      fal: env.SIM_FAL_KEY || SIM_FAL_KEY,
      seedance: env.SIM_SEEDANCE_KEY || 'ark-sim-seedance',
    },
  };
}

async function main(): Promise<void> {
  const simulator = await startSimulator(parseCliOptions(process.argv.slice(2), process.env));
  process.stdout.write(`${JSON.stringify({ simulator: simulator.url })}\n`);
  const stop = (): void => {
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`simulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
