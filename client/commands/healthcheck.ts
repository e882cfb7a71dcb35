/**
 * `sora-series healthcheck [--url URL]`, for container HEALTHCHECKs (exit 0 healthy, 1 not).
 *  - with a URL (flag or SORA_SERIES_HEALTH_URL): the service answers it with 2xx (gateway,
 *    codec server, simulator);
 *  - without: a worker on this host polls its task queue, as the Temporal server sees it. That
 *    proves the worker process, its connection settings (TLS, API key) and the server together.
 */
import { hostname } from 'node:os';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { temporalConnectionOptions } from '../../common/temporal/connection-options';
import { temporalSettings, type TemporalSettings } from '../../common/temporal/settings';
import { ArgumentError } from '../series/series-id';
import type { CommandSpec } from './command';

export const HEALTH_URL_ENV = 'SORA_SERIES_HEALTH_URL';
/** A polling worker refreshes this at least every long poll (about a minute). */
const POLLER_FRESH_MS = 3 * 60_000;
const TIMEOUT_MS = 5_000;

export interface HealthResult {
  healthy: boolean;
  detail: string;
}

export async function checkUrl(url: string): Promise<HealthResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel();
    return { healthy: res.ok, detail: `${url}: HTTP ${res.status}` };
  } catch (err) {
    return {
      healthy: false,
      detail: `${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
    };
  }
}

/** Pollers on the task queue whose identity is `<pid>@<host>` (the SDK's default worker identity) of this host, or as given. */
export async function checkWorkerPolls(
  settings: TemporalSettings,
  identity: { suffix: string } | { exact: string } = { suffix: `@${hostname()}` },
): Promise<HealthResult> {
  const connection = await Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: TIMEOUT_MS });
  try {
    const { pollers } = await connection.withDeadline(Date.now() + TIMEOUT_MS, () =>
      connection.workflowService.describeTaskQueue({
        namespace: settings.namespace,
        taskQueue: { name: settings.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    const ours = (pollers ?? []).filter((p) =>
      'exact' in identity ? p.identity === identity.exact : p.identity?.endsWith(identity.suffix),
    );
    const who = 'exact' in identity ? `worker ${identity.exact}` : `worker of host ${identity.suffix.slice(1)}`;
    const freshest = Math.max(0, ...ours.map((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000));
    const where = `task queue ${settings.taskQueue} on ${settings.address}`;
    if (ours.length === 0) return { healthy: false, detail: `no ${who} polls ${where}` };
    const age = Date.now() - freshest;
    if (age > POLLER_FRESH_MS)
      return { healthy: false, detail: `the ${who} last polled ${where} ${Math.round(age / 1000)} s ago` };
    return { healthy: true, detail: `worker ${ours.map((p) => p.identity).join(', ')} polls ${where}` };
  } finally {
    await connection.close();
  }
}

/** `sora-series healthcheck`: exit 0 healthy, 1 not. */
export const healthcheckCommand: CommandSpec = {
  summary: "exit 0 when the URL answers 2xx, or (no URL) when this host's worker polls its task queue",
  details:
    'For container health checks. Without a URL it asks the Temporal server (the connection settings of the environment) whether a worker of this host polls the task queue: that proves the worker process, its settings and the server together.',
  args: [],
  options: {
    url: { type: 'string', value: 'URL', help: `an http(s) URL to check instead (default ${HEALTH_URL_ENV})` },
  },
  async run({ values, print }) {
    return healthcheck(values.url as string | undefined, print);
  },
};

async function healthcheck(
  urlOption: string | undefined,
  print: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const url = urlOption ?? (env[HEALTH_URL_ENV]?.trim() || undefined);
  if (url !== undefined && !/^https?:\/\//.test(url))
    throw new ArgumentError(`--url / ${HEALTH_URL_ENV}: must be an http(s) URL, got "${url}"`);
  let result: HealthResult;
  try {
    result = url ? await checkUrl(url) : await checkWorkerPolls(temporalSettings(env));
  } catch (err) {
    result = { healthy: false, detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  print(`${result.healthy ? 'healthy' : 'unhealthy'}: ${result.detail}`);
  return result.healthy ? 0 : 1;
}
