import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { seriesWorkflowId } from '../../workflows/ids';
import { createLogger, installRuntimeLogger } from '../../workers/logger';
import { installTelemetry } from '../../workers/telemetry';
import { GATEWAY_URL_ENV, knownGatewayUrl, REVIEW_PATH, reviewPageUrl } from '../gateway/review-link';
import { DEFAULT_GATEWAY_PORT } from '../gateway/settings';
import { startDevStack, type DevStack } from '../stack/dev-stack';
import { formatReport, runSeries } from './run';
import { validateSpecFile } from '../spec/validate';

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
    ...(stack.gateway
      ? [
          `gateway: ${stack.gateway.url} (OpenAPI at /openapi.json; the simulator's webhooks go here, signed with a secret made for this run)`,
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

/** `sora-series demo`: the dev stack, the example series with progress, a check of every asset, the manifest. */
export async function runDemo(options: {
  dataDir: string;
  gatewayPort?: number;
  print: (line: string) => void;
}): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  installRuntimeLogger(logger);
  const started = Date.now();
  const stack = await startDevStack({
    dataDir: options.dataDir,
    simulatorPort: 7070,
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
      const { report } = await runSeries(client, {
        input: (await validateSpecFile(DEMO_SPEC)).input,
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
          .filter((l) => !l.startsWith('manifest:'))
          .join('\n'),
      );
      const verified = await verifyManifest(report.manifestPath);
      options.print(
        `verified: ${verified.ok}/${verified.total} scene files exist and match their sha256 (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      if (verified.ok !== verified.total)
        throw new DemoFailedError(`${verified.total - verified.ok} scene file(s) missing or corrupt`);
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

/** Re-hashes every completed scene's file against the manifest. */
export async function verifyManifest(path: string): Promise<{ ok: number; total: number }> {
  const manifest = JSON.parse(await readFile(path, 'utf8')) as {
    scenes: Array<{ status: string; assetPath?: string; sha256?: string }>;
  };
  const completed = manifest.scenes.filter((s) => s.status === 'completed');
  let ok = 0;
  for (const scene of completed) {
    if (scene.assetPath && scene.sha256 && (await sha256Of(scene.assetPath).catch(() => '')) === scene.sha256) ok++;
  }
  return { ok, total: manifest.scenes.length };
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
