import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import YAML from 'yaml';
import { episodeRequestOf, episodeWorkflowIdOf } from '../../workflows/episode-request';
import { seriesWorkflowId } from '../../workflows/ids';
import type { SeriesInput } from '../../workflows/types';
import { createLogger, installRuntimeLogger } from '../../workers/logger';
import { installTelemetry } from '../../workers/telemetry';
import { GATEWAY_URL_ENV, knownGatewayUrl, REVIEW_PATH, reviewPageUrl } from '../gateway/review-link';
import { DEFAULT_GATEWAY_PORT } from '../gateway/settings';
import { startDevStack, type DevStack } from '../stack/dev-stack';
import { DEFAULT_SIMULATOR_URL } from '../spec/provider-profiles';
import { validateSpec } from '../spec/validate';
import { episodeProblems, readManifest, verifyScenes } from './demo-checks';
import { formatReport, runSeries } from './run';

/** The example series the demo runs; its clip URL points at the simulator's default port. */
export const DEMO_SPEC = join(__dirname, '..', '..', '..', 'examples', 'harbor-tales.yaml');

/** What this process starts from now on (and `watch` or `start` in it) links to the stack's gateway. */
function announceGateway(stack: DevStack): void {
  if (stack.gateway) process.env[GATEWAY_URL_ENV] ??= stack.gateway.url;
}

function stackLines(stack: DevStack): string[] {
  return [
    `temporal: ${stack.temporalAddress} (namespace ${stack.namespace}, task queue ${stack.taskQueue})`,
    ...(stack.uiUrl ? [`web ui: ${stack.uiUrl}`] : []),
    `simulator: ${stack.simulator.url}`,
    `providers: ${stack.providers.names.join(', ')} (${stack.providers.source})`,
    ...(stack.gateway
      ? [
          `gateway: ${stack.gateway.url} (OpenAPI at /openapi.json; the twins' webhooks go here: kling and official signed with secrets made for this run, fal with the twin's JWKS key, seedance as hints)`,
          `review pages: ${stack.gateway.url}${REVIEW_PATH}/<series name>`,
        ]
      : []),
    `data: ${stack.dataDir}`,
  ];
}

/** `sora-series dev`: the embedded stack until Ctrl-C. */
export async function runDev(options: {
  dataDir: string;
  temporalPort: number;
  uiPort: number;
  simulatorPort: number;
  worker: boolean;
  jobSeconds?: number;
  /** The HTTP gateway's port (0: a free one); default 7071. */
  gatewayPort?: number;
  print: (line: string) => void;
}): Promise<void> {
  const logger = createLogger();
  // The in-process worker's metrics: SORA_SERIES_METRICS_ADDRESS, else a free port (a `sora-series worker` may hold 9464).
  const telemetry = await installTelemetry(logger, { fallbackAddress: '127.0.0.1:0' });
  const stack = await startDevStack({ ...options, gatewayPort: options.gatewayPort ?? DEFAULT_GATEWAY_PORT, logger });
  announceGateway(stack);
  stackLines(stack).forEach(options.print);
  options.print(`metrics: ${telemetry.metricsUrl ?? 'off'}`);
  options.print(
    options.worker ? 'worker: running in this process' : 'worker: none (start one with `sora-series worker`)',
  );
  options.print('ready; Ctrl-C stops everything');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  options.print('stopping...');
  await stack.stop();
}

/** The example's clip is served by the simulator: the spec names its default port, the demo's may differ. */
async function demoSpec(simulatorUrl: string): Promise<SeriesInput> {
  const text = (await readFile(DEMO_SPEC, 'utf8')).replaceAll(DEFAULT_SIMULATOR_URL, simulatorUrl);
  return validateSpec(YAML.parse(text), { source: DEMO_SPEC }).input;
}

/** `sora-series demo`: the dev stack, the example series with progress, a check of every file, the episode, the manifest. */
export async function runDemo(options: {
  dataDir: string;
  gatewayPort?: number;
  /** Default 7070, the port the example spec names. */
  simulatorPort?: number;
  print: (line: string) => void;
}): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  installRuntimeLogger(logger);
  const started = Date.now();
  const stack = await startDevStack({
    dataDir: options.dataDir,
    simulatorPort: options.simulatorPort ?? Number(new URL(DEFAULT_SIMULATOR_URL).port),
    jobSeconds: 3,
    gatewayPort: options.gatewayPort ?? DEFAULT_GATEWAY_PORT,
    logger,
  });
  try {
    announceGateway(stack);
    stackLines(stack).forEach(options.print);
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const client = new Client({ connection, namespace: stack.namespace });
      const id = seriesWorkflowId(`harbor-tales-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const gatewayUrl = knownGatewayUrl(process.env, stack.temporalAddress);
      if (gatewayUrl) options.print(`review: ${reviewPageUrl(gatewayUrl, id)}`);
      const { workflowId, report } = await runSeries(client, {
        input: await demoSpec(stack.simulator.url),
        id,
        wait: true,
        taskQueue: stack.taskQueue,
        progress: options.print,
        gatewayUrl,
      });
      if (!report?.manifestPath) throw new DemoFailedError(report ? formatReport(report) : 'no report');
      options.print(
        formatReport(report)
          .split('\n')
          .filter((l) => !l.startsWith('manifest:') && !l.startsWith('episode:'))
          .join('\n'),
      );
      const manifest = await readManifest(report.manifestPath);
      const scenes = await verifyScenes(manifest);
      options.print(
        `verified: ${scenes.ok}/${scenes.total} scene files exist, match their sha256 and decode to frames (${scenes.frames} frames, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      if (scenes.ok !== scenes.total)
        throw new DemoFailedError(`${scenes.total - scenes.ok} scene file(s) missing, corrupt or undecodable`);
      const problems = await episodeProblems(manifest, scenes.seconds);
      if (problems.length || !manifest.episode || !manifest.contactSheet)
        throw new DemoFailedError(problems.join('\n'));
      const cut = await client.workflow
        .getHandle(episodeWorkflowIdOf(episodeRequestOf(workflowId, manifest.scenes)))
        .describe();
      const cutSeconds = ((cut.closeTime?.getTime() ?? NaN) - cut.startTime.getTime()) / 1000;
      options.print(
        `episode checked: ${manifest.episode.seconds.toFixed(1)} s of video, its ${manifest.episode.scenes.length} scenes add up to ${scenes.seconds.toFixed(1)} s; episode, contact sheet and ${manifest.posters?.length} posters match their sha256 (cut in ${cutSeconds.toFixed(1)} s)`,
      );
      options.print(`episode: ${manifest.episode.path}`);
      options.print(`contact sheet: ${manifest.contactSheet.path}`);
      options.print(`manifest: ${report.manifestPath}`);
    } finally {
      await connection.close();
    }
  } finally {
    await stack.stop();
  }
}

export class DemoFailedError extends Error {
  constructor(detail: string) {
    super(`the demo series did not finish cleanly:\n${detail}`);
    this.name = 'DemoFailedError';
  }
}
