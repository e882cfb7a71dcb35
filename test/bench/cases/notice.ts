/**
 * notice: how long after the upstream finished a job the scene workflow knows it. The simulator
 * says when each official job ended (its webhook log carries `finishedAtMs`, also when webhooks
 * only go to a sink); the scene's history says when it learnt it: the start of the collectJob
 * attempt that found the job done (polling) or the jobFinished signal (webhook via the gateway).
 * Same machine, same clock. The same series count the status calls each job cost the upstream,
 * with polling only (at a long job length, standing for minutes) and with webhooks on.
 */
import pino from 'pino';
import { loadProviderConfig } from '../../../activities/providers/config';
import { PROVIDERS_FILE_ENV } from '../../../workflows/provider-rules';
import { profilesOf } from '../../../activities/providers/registry';
import { startGateway } from '../../../client/gateway/server';
import type { BenchConfig } from '../config';
import { historyOf, jobNoticedByPolling, median, signalsReceived } from '../histories';
import type { RunningSimulator } from '../../../simulator/server';
import { benchSeriesInput, completed, sceneWorkflowId, startBenchSeries } from '../series';
import type { BenchStack } from '../stack';
import { officialWebhookVerifier } from '../../../client/gateway/webhook-verifiers';

export interface NoticeResult {
  webhookMedianMs: number;
  pollingMedianMs: number;
  /** The long-job series: its mean job length and median notice delay (polling only). */
  longJobSeconds: number;
  longJobMedianMs: number;
}
export interface UpstreamResult {
  /** Status reads (job reads and list pages) per completed job, polling only, long jobs. */
  statusCallsPerJob: number;
  /** The same with webhooks on (checks are then the safety net). */
  statusCallsPerJobWebhooks: number;
}

export const NOTICE_SIMULATORS = { polled: 'notice-polled', webhook: 'notice-webhook', long: 'notice-long' } as const;
export const NOTICE_PROVIDERS = { polled: 'polled', webhook: 'official', long: 'long-polled' } as const;

/** Status reads the simulator answered per job it accepted (official contract). */
function statusCallsPerJob(sim: RunningSimulator): number {
  const calls = sim.calls().byEndpoint.official;
  return ((calls.retrieve ?? 0) + (calls.list ?? 0)) / sim.ledger().length;
}
/** How long a status check's request may take before the upstream answers it. */
const CHECK_IN_FLIGHT_MS = 1_000;
const WEBHOOK_SECRET = `whsec_${Buffer.from('sora-series bench webhook key').toString('base64')}`;

/**
 * Runs a series on `provider` and returns, per scene, (when the scene knew) - (when the job ended).
 * `knewAt` reads the path under test from the scene's history; a scene that learnt it the other way
 * first (its poll beat the webhook) counts with that time, as `otherPath`.
 */
async function noticeDelays(
  stack: BenchStack,
  config: BenchConfig,
  role: string,
  simName: string,
  provider: string,
  knewAt: (events: Awaited<ReturnType<typeof historyOf>>) => number[],
  scenes = config.notice.scenes,
): Promise<{ delays: number[]; otherPath: number; jobSeconds: number[] }> {
  const sim = stack.simulators.get(simName)!;
  const series = await startBenchSeries(
    stack.client,
    stack.worker(role).taskQueue,
    benchSeriesInput({
      label: `notice-${provider}`,
      provider,
      scenes,
      clipUrl: `${sim.url}/clips/mira.mp4`,
    }),
  );
  const acceptedAt = new Map(sim.ledger().map((e) => [e.jobId, Date.parse(e.at)]));
  const result = await completed(series);
  const finishedAt = new Map(sim.webhookDeliveries().map((d) => [d.videoId, d.finishedAtMs]));
  const delays: number[] = [];
  const jobSeconds: number[] = [];
  let otherPath = 0;
  for (const scene of result.scenes) {
    const take = scene.takes.find((t) => t.outcome === 'completed');
    const ended = take?.jobId ? finishedAt.get(take.jobId) : undefined;
    if (ended === undefined)
      throw new Error(`scene ${scene.index}: the simulator has no end time for job ${take?.jobId}`);
    const events = await historyOf(stack.client, sceneWorkflowId(series.workflowId, scene.index));
    // A check that found the job done may have started just before it ended (its request was in flight): it counts as 0.
    const knew = [...knewAt(events), ...jobNoticedByPolling(events)].filter((t) => t >= ended - CHECK_IN_FLIGHT_MS);
    if (!knew.length)
      throw new Error(`scene ${scene.index}: its history does not show when it learnt that job ${take?.jobId} ended`);
    const first = Math.min(...knew);
    if (!knewAt(events).includes(first)) otherPath++;
    delays.push(Math.max(0, first - ended));
    const accepted = acceptedAt.get(take!.jobId!) ?? Date.parse(sim.ledger().find((e) => e.jobId === take!.jobId)!.at);
    jobSeconds.push((ended - accepted) / 1000);
  }
  return { delays, otherPath, jobSeconds };
}

export async function noticeCase(
  stack: BenchStack,
  config: BenchConfig,
): Promise<{ result: NoticeResult & { upstream: UpstreamResult }; info: Record<string, number> }> {
  // Polling: webhooks go to a sink that does nothing, so only the worker's polls can tell the scene.
  stack.simulators.get(NOTICE_SIMULATORS.polled)!.setWebhook({ url: stack.sinkUrl, secret: WEBHOOK_SECRET });
  const { delays: polled } = await noticeDelays(
    stack,
    config,
    'notice-polling',
    NOTICE_SIMULATORS.polled,
    NOTICE_PROVIDERS.polled,
    jobNoticedByPolling,
  );
  const longSim = stack.simulators.get(NOTICE_SIMULATORS.long)!;
  longSim.setWebhook({ url: stack.sinkUrl, secret: WEBHOOK_SECRET });
  const long = await noticeDelays(
    stack,
    config,
    'notice-polling',
    NOTICE_SIMULATORS.long,
    NOTICE_PROVIDERS.long,
    jobNoticedByPolling,
    config.notice.longScenes,
  );

  // Webhooks: the simulator signs them, the product's gateway verifies them and signals the waiting scene.
  const gateway = await startGateway({
    client: stack.client,
    taskQueue: stack.worker('notice-webhook').taskQueue,
    logger: pino({ level: 'silent' }),
    port: 0,
    profiles: profilesOf(loadProviderConfig({ [PROVIDERS_FILE_ENV]: stack.providersFile })),
    webhooks: { [NOTICE_PROVIDERS.webhook]: officialWebhookVerifier(WEBHOOK_SECRET) },
  });
  let hooked: number[];
  let pollFirst: number;
  try {
    stack.simulators
      .get(NOTICE_SIMULATORS.webhook)!
      .setWebhook({ url: `${gateway.url}/webhooks/${NOTICE_PROVIDERS.webhook}`, secret: WEBHOOK_SECRET });
    ({ delays: hooked, otherPath: pollFirst } = await noticeDelays(
      stack,
      config,
      'notice-webhook',
      NOTICE_SIMULATORS.webhook,
      NOTICE_PROVIDERS.webhook,
      (events) => signalsReceived(events, 'jobFinished'),
    ));
  } finally {
    await gateway.close();
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const webhookSim = stack.simulators.get(NOTICE_SIMULATORS.webhook)!;
  return {
    result: {
      webhookMedianMs: median(hooked),
      pollingMedianMs: median(polled),
      longJobSeconds: mean(long.jobSeconds),
      longJobMedianMs: median(long.delays),
      upstream: {
        statusCallsPerJob: statusCallsPerJob(longSim),
        statusCallsPerJobWebhooks: statusCallsPerJob(webhookSim),
      },
    },
    info: {
      shortJobStatusCallsPerJob: statusCallsPerJob(stack.simulators.get(NOTICE_SIMULATORS.polled)!),
      longJobMaxMs: Math.max(...long.delays),
      longJobMinSeconds: Math.min(...long.jobSeconds),
      longJobMaxSeconds: Math.max(...long.jobSeconds),
      pollMs: stack.pollMsOf('notice-polling'),
      webhookWorkerPollMs: stack.pollMsOf('notice-webhook'),
      pollingSamples: polled.length,
      pollingMaxMs: Math.max(...polled),
      webhookSamples: hooked.length,
      webhookMaxMs: Math.max(...hooked),
      webhookScenesTheirPollWasFirst: pollFirst,
    },
  };
}
