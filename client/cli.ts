#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { connectClient } from './series/connect';
import { formatEstimate } from './commands/validate';
import { validateSpecFile } from './spec/validate';
import { resolveSeriesId } from './commands/args';
import { formatReport, runSeries } from './commands/run';
import { seriesReport } from './series/series-client';
import { specJsonSchema } from './spec/spec';
import { runDemo, runDev } from './commands/dev';
import { runWorkerProcess } from '../workers/main';
import { runSteering, STEERING_COMMANDS, STEERING_USAGE } from './commands/steering';
import { runCodecServerCommand } from './commands/codec-server';
import { runHealthcheckCommand } from './commands/healthcheck';
import { runGatewayCommand } from './gateway/command';

const USAGE = `sora-series: durable AI video series with one consistent character, on Temporal

usage:
  sora-series validate <spec>                 check a spec and print the cost estimate per route
  sora-series start <spec> [--id ID] [--wait] [--json] [--allow-budget-pause]
  sora-series status <id> [--json]
  sora-series dev [--temporal-port N] [--ui-port N] [--simulator-port N] [--gateway-port N] [--data-dir DIR] [--no-worker] [--job-seconds S]
  sora-series worker                          a worker joining a running stack (settings from the environment)
  sora-series demo [--data-dir DIR] [--gateway-port N]  the dev stack, the example series, progress, then the manifest
  sora-series schema                          JSON Schema of the spec format
  sora-series codec-server [--port 8081]      the payload codec endpoint for the Web UI and \`temporal --codec-endpoint\`
  sora-series healthcheck [--url URL]         exit 0 when the URL answers 2xx, or (no URL) when this host's worker polls its queue
  sora-series gateway [--port 7071] [--host 127.0.0.1]  HTTP door: start, steer and read series, provider webhooks (GET /openapi.json)

watching and steering a series (<id>: a series name or its workflow id series/<name>):
${STEERING_USAGE}

environment: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), SORA_SERIES_TASK_QUEUE (sora-series),
  SORA_SERIES_PROVIDERS (provider config file), SORA_SERIES_DATA_DIR (.data)`;

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
    this.name = 'UsageError';
  }
}

const print = (text: string) => process.stdout.write(`${text}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Watch and steering commands parse their own arguments (client/commands/steering.ts).
  if (command && STEERING_COMMANDS.includes(command)) return runSteering(command, rest, print);
  if (command === 'codec-server') return runCodecServerCommand(rest, print);
  if (command === 'healthcheck') return runHealthcheckCommand(rest, print);
  if (command === 'gateway') return runGatewayCommand(rest, print);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      wait: { type: 'boolean', default: false },
      'allow-budget-pause': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'temporal-port': { type: 'string' },
      'ui-port': { type: 'string' },
      'simulator-port': { type: 'string' },
      'gateway-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'no-worker': { type: 'boolean', default: false },
      'job-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const port = (name: 'temporal-port' | 'ui-port' | 'simulator-port' | 'gateway-port') => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new UsageError(`--${name}: must be a port number (0-65535), got "${raw}"`);
    return n;
  };
  const needArg = (what: string) => {
    if (!positionals[0]) throw new UsageError(`${command}: missing <${what}>`);
    return positionals[0];
  };
  const dataDir = resolve(values['data-dir'] ?? process.env.SORA_SERIES_DATA_DIR ?? '.data');

  switch (command) {
    case 'validate': {
      const { input, estimate, pricesFrom } = await validateSpecFile(needArg('spec'));
      print(
        values.json
          ? JSON.stringify({ ok: true, scenes: input.scenes.length, estimate })
          : formatEstimate(input, estimate, pricesFrom),
      );
      return 0;
    }
    case 'start': {
      // Validate before connecting: a bad spec is refused even when Temporal is unreachable.
      const { input } = await validateSpecFile(needArg('spec'), { checkBudget: !values['allow-budget-pause'] });
      const { client, settings, close } = await connectClient();
      try {
        const { workflowId, report } = await runSeries(client, {
          input,
          id: values.id,
          wait: values.wait,
          taskQueue: settings.taskQueue,
          progress: values.json ? undefined : print,
        });
        if (!report)
          print(values.json ? JSON.stringify({ id: workflowId, status: 'running' }) : `started ${workflowId}`);
        else print(values.json ? JSON.stringify(report) : formatReport(report));
        return report && report.status !== 'completed' && report.status !== 'completed_with_rejections' ? 1 : 0;
      } finally {
        await close();
      }
    }
    case 'status': {
      const id = resolveSeriesId(needArg('id'));
      const { client, close } = await connectClient();
      try {
        const report = await seriesReport(client, id);
        print(values.json ? JSON.stringify(report) : formatReport(report));
        return 0;
      } finally {
        await close();
      }
    }
    case 'dev': {
      const jobSeconds = values['job-seconds'] === undefined ? undefined : Number(values['job-seconds']);
      if (jobSeconds !== undefined && !(jobSeconds >= 0))
        throw new UsageError('--job-seconds: must be a number of seconds');
      await runDev({
        dataDir,
        temporalPort: port('temporal-port') ?? 7233,
        uiPort: port('ui-port') ?? 8233,
        simulatorPort: port('simulator-port') ?? 7070,
        gatewayPort: port('gateway-port'),
        worker: !values['no-worker'],
        jobSeconds,
        print,
      });
      return 0;
    }
    case 'demo':
      await runDemo({ dataDir, gatewayPort: port('gateway-port'), print });
      return 0;
    case 'worker':
      await runWorkerProcess();
      return 0;
    case 'schema':
      print(JSON.stringify(specJsonSchema(), null, 2));
      return 0;
    case undefined:
    case 'help':
      print(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`sora-series: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}\n`);
      process.exit(2);
    },
  );
}
