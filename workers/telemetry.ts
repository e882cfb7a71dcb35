/**
 * The worker's Prometheus endpoint: Temporal's runtime metrics (`temporal_*`: workflow and
 * activity tasks, completions, latencies) plus the project's own (workflows/metric-names.ts),
 * which workflows and activities emit through Temporal's metric meter so both land on one endpoint.
 */
import type { Logger } from 'pino';
import type { MetricsExporterConfig } from '@temporalio/worker';
import { freePort } from '../common/process';
import { METRIC, TAKE_COST_BUCKETS_USD } from '../workflows/metric-names';
import { installRuntimeLogger } from './logger';

export const METRICS_ADDRESS_ENV = 'SORA_SERIES_METRICS_ADDRESS';
/** Where `sora-series worker` serves metrics unless told otherwise. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/** The variable holds something that is not `host:port` or `off`. */
export class MetricsSettingsError extends Error {
  constructor(value: string) {
    super(
      `${METRICS_ADDRESS_ENV}: "${value}" is not host:port (e.g. ${DEFAULT_METRICS_ADDRESS}; port 0 picks a free one) or "off"`,
    );
    this.name = 'MetricsSettingsError';
  }
}

/** The metrics address that was set explicitly could not be served (usually: port taken). */
export class MetricsBindError extends Error {
  constructor(address: string, cause: unknown) {
    super(
      `cannot serve metrics on ${address} (${cause instanceof Error ? cause.message : String(cause)}): set ${METRICS_ADDRESS_ENV} to a free host:port or "off"`,
      { cause },
    );
    this.name = 'MetricsBindError';
  }
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

export function prometheusExporter(bindAddress: string): MetricsExporterConfig {
  // Per-take cost is dollars, not the milliseconds Temporal's default buckets are made for.
  return { prometheus: { bindAddress, histogramBucketOverrides: { [METRIC.takeCostUsd]: TAKE_COST_BUCKETS_USD } } };
}

/**
 * The address to serve on: the variable's (`off` or empty: none), else `fallback`. Port 0 is
 * resolved to a free port here, so the URL can be told.
 */
export async function metricsAddress(
  env: NodeJS.ProcessEnv,
  fallback: string | undefined,
): Promise<{ address?: string; explicit: boolean }> {
  const raw = env[METRICS_ADDRESS_ENV]?.trim();
  const explicit = raw !== undefined;
  const value = explicit ? raw : fallback;
  if (!value || value.toLowerCase() === 'off') return { explicit };
  const match = HOST_PORT.exec(value);
  if (!match || Number(match[2]) > 65535) throw new MetricsSettingsError(value);
  const port = Number(match[2]) || (await freePort(match[1].replace(/^\[|\]$/g, '')));
  return { address: `${match[1]}:${port}`, explicit };
}

export interface Telemetry {
  /** `http://host:port/metrics`, when metrics are served. */
  metricsUrl?: string;
}

/**
 * Installs the SDK runtime once per process, before any connection: logs into pino, metrics on
 * `SORA_SERIES_METRICS_ADDRESS` or `fallbackAddress`. A taken fallback address (a second worker
 * on the machine) costs only the metrics, with a warning; an address set explicitly must work.
 */
export async function installTelemetry(
  logger: Logger,
  options: { env?: NodeJS.ProcessEnv; fallbackAddress?: string } = {},
): Promise<Telemetry> {
  const { address, explicit } = await metricsAddress(options.env ?? process.env, options.fallbackAddress);
  if (!address) {
    installRuntimeLogger(logger);
    return {};
  }
  try {
    installRuntimeLogger(logger, prometheusExporter(address));
  } catch (err) {
    if (explicit) throw new MetricsBindError(address, err);
    logger.warn(
      { address, err },
      `metrics off: cannot serve them on ${address}; set ${METRICS_ADDRESS_ENV} to a free host:port`,
    );
    installRuntimeLogger(logger);
    return {};
  }
  return { metricsUrl: `http://${address}/metrics` };
}
