/**
 * The bench-only worker: registers the no-op workflows and activities, configured like the
 * product's worker where it matters for the comparison (activity slots, metrics on, same SDK).
 * Reads TEMPORAL_ADDRESS, SORA_SERIES_TASK_QUEUE and SORA_SERIES_METRICS_ADDRESS.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { metricsAddress, prometheusExporter } from '../../workers/telemetry';
import { noop } from './noop-activities';

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const taskQueue = process.env.SORA_SERIES_TASK_QUEUE ?? 'bench-noop';
  const { address: metrics } = await metricsAddress(process.env, undefined);
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'WARN' }, console: {} },
      ...(metrics ? { metrics: prometheusExporter(metrics) } : {}),
    },
  });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue,
    workflowsPath: require.resolve('./noop-workflows'),
    activities: { noop },
    maxConcurrentActivityTaskExecutions: 200,
    shutdownGraceTime: '2 seconds',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  process.stdout.write(`${JSON.stringify({ msg: 'noop worker started', taskQueue })}\n`);
  await worker.run();
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`noop worker: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
