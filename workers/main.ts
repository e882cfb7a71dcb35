#!/usr/bin/env node
/**
 * A worker process that joins a running stack: `sora-series worker` or `node dist/workers/main.js`.
 * Settings come from the environment (a temporal.toml profile and the TEMPORAL_* variables,
 * SORA_SERIES_*, the providers' key variables, SORA_SERIES_METRICS_ADDRESS), so workers can be
 * added and killed independently.
 */
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadProviderConfig } from '../activities/providers/config';
import { dataConverterFromEnv } from '../common/codec/data-converter';
import { CODEC_KEYS_ENV, codecKeyMaterial } from '../common/codec/keys';
import { TemporalConnectError, temporalConnectionOptions } from '../common/temporal/connection-options';
import { describeConnection, temporalSettings } from '../common/temporal/settings';
import { activityDepsFromEnv } from './activity-deps';
import { createLogger } from './logger';
import { ensureProviderSlots } from './provider-slots';
import { createSeriesWorker, maxCachedWorkflowsFromEnv } from './series-worker';
import { DEFAULT_METRICS_ADDRESS, installTelemetry } from './telemetry';
import { prebuiltWorkflowBundle } from './workflow-bundle';

export async function runWorkerProcess(): Promise<void> {
  const config = loadProviderConfig(); // read once: the logger blanks its key variables, activities use it
  const logger = createLogger({
    keyEnvs: [...config.providers.map((p) => p.keyEnv), CODEC_KEYS_ENV],
    secrets: codecKeyMaterial(),
  });
  const telemetry = await installTelemetry(logger, { fallbackAddress: DEFAULT_METRICS_ADDRESS });
  const settings = temporalSettings();
  const deps = activityDepsFromEnv(logger, process.env, config);
  const maxCachedWorkflows = maxCachedWorkflowsFromEnv();
  const dataConverter = dataConverterFromEnv(); // payload encryption when SORA_SERIES_CODEC_KEYS is set
  const connection = await NativeConnection.connect(temporalConnectionOptions(settings)).catch((err: unknown) => {
    throw new TemporalConnectError(settings, err);
  });
  const workflowBundle = prebuiltWorkflowBundle(dataConverter);
  const worker = await createSeriesWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    deps,
    dataConverter,
    workflowBundle,
    maxCachedWorkflows,
  });
  const client = new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
  await ensureProviderSlots(
    client,
    settings.taskQueue,
    [...deps.providers.values()].map((p) => p.profile),
    logger,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  logger.info(
    {
      taskQueue: settings.taskQueue,
      address: settings.address,
      connection: describeConnection(settings),
      providers: [...deps.providers.keys()],
      metrics: telemetry.metricsUrl ?? 'off',
      workflows: workflowBundle ? 'prebuilt bundle' : 'bundled at start',
    },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    logger.info('worker stopped');
  }
}

if (require.main === module) {
  runWorkerProcess().then(
    () => process.exit(0), // shut down cleanly: do not wait on the SDK runtime's native handles
    (err: Error) => {
      process.stderr.write(`worker: ${err.name}: ${err.message}\n`);
      process.exit(1);
    },
  );
}
