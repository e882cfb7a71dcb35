import { resolve } from 'node:path';
import { DEFAULT_GATEWAY_PORT } from '../gateway/settings';
import { ArgumentError } from '../series/series-id';
import { portOption, type CommandSpec, type OptionSpec, type OptionValues } from './command';

// The worker and the dev stack load the Temporal worker (its native bridge and bundler): only the
// commands that run them pay for it, not every `--help`, `status` or `validate`.
const devStack = () => import('./dev');

const DATA_DIR_ENV = 'SORA_SERIES_DATA_DIR';
const dataDirOption: OptionSpec = {
  type: 'string',
  value: 'DIR',
  help: `where the server's database, clips, assets and manifests go (default ${DATA_DIR_ENV}, else .data)`,
};
const gatewayPortOption: OptionSpec = {
  type: 'string',
  value: 'N',
  help: `the gateway's port (default ${DEFAULT_GATEWAY_PORT}; 0: a free one)`,
};
const dataDir = (values: OptionValues) =>
  resolve((values['data-dir'] as string | undefined) ?? process.env[DATA_DIR_ENV] ?? '.data');

/** Running the stack: the embedded default, a worker joining one, and the services around it. */
export const STACK_COMMANDS: Record<string, CommandSpec> = {
  dev: {
    summary: 'the embedded stack until Ctrl-C: dev server with Web UI, simulator, gateway and a worker',
    args: [],
    options: {
      'temporal-port': { type: 'string', value: 'N', help: "the dev server's gRPC port (default 7233)" },
      'ui-port': { type: 'string', value: 'N', help: "the Web UI's port (default 8233)" },
      'simulator-port': { type: 'string', value: 'N', help: "the simulator's port (default 7070)" },
      'gateway-port': gatewayPortOption,
      'data-dir': dataDirOption,
      'no-worker': { type: 'boolean', help: 'start no worker here (run `sora-series worker` elsewhere)' },
      'job-seconds': { type: 'string', value: 'S', help: 'how long a simulated generation takes' },
    },
    async run({ values, print }) {
      const raw = values['job-seconds'] as string | undefined;
      const jobSeconds = raw === undefined ? undefined : Number(raw);
      if (jobSeconds !== undefined && !(raw!.trim() && jobSeconds >= 0))
        throw new ArgumentError(`--job-seconds: must be a number of seconds from 0, got "${raw}"`);
      await (
        await devStack()
      ).runDev({
        dataDir: dataDir(values),
        temporalPort: portOption(values, 'temporal-port', 7233),
        uiPort: portOption(values, 'ui-port', 8233),
        simulatorPort: portOption(values, 'simulator-port', 7070),
        gatewayPort: portOption(values, 'gateway-port'),
        worker: !values['no-worker'],
        jobSeconds,
        print,
      });
      return 0;
    },
  },
  demo: {
    summary:
      'the dev stack, the example series with progress, a check of every file, then the episode and the manifest',
    args: [],
    options: {
      'data-dir': dataDirOption,
      'gateway-port': gatewayPortOption,
      'simulator-port': { type: 'string', value: 'N', help: "the simulator's port (default 7070; 0: a free one)" },
    },
    async run({ values, print }) {
      await (
        await devStack()
      ).runDemo({
        dataDir: dataDir(values),
        gatewayPort: portOption(values, 'gateway-port'),
        simulatorPort: portOption(values, 'simulator-port'),
        print,
      });
      return 0;
    },
  },
  worker: {
    summary: 'a worker joining a running stack (settings from the environment)',
    details:
      'Reads the Temporal connection settings, SORA_SERIES_TASK_QUEUE, the provider keys and SORA_SERIES_CODEC_KEYS from the environment. Stops cleanly on SIGINT or SIGTERM.',
    args: [],
    async run() {
      await (await import('../../workers/main')).runWorkerProcess();
      return 0;
    },
  },
};
