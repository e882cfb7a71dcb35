import { fromPayloadsAtIndex } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { sceneWorkflowId } from '../../workflows/ids';
import { sceneStatusQuery, type SceneStatusView } from '../../workflows/messages';

/** Where a running scene is: its own status query plus the upstream's progress from its last check's heartbeat. */
export interface SceneProgress extends Partial<Omit<SceneStatusView, 'index'>> {
  index: number;
  /** Upstream progress, 0-100, as last heartbeated (heartbeats reach the server every few seconds). */
  progress?: number;
  /** The upstream job's state (queued, running, ...). */
  upstream?: string;
}

/** Scene workflows are children named after their series (workflows/ids.ts). */

/** The activities that wait on a job: collectJob (each check heartbeats, kept between attempts) and, in older scenes, awaitJob. */
const WAITS = new Set(['collectJob', 'awaitJob']);

export async function sceneProgress(client: Client, seriesId: string, index: number): Promise<SceneProgress> {
  const handle = client.workflow.getHandle(sceneWorkflowId(seriesId, index));
  // Either may fail while the scene starts or just ended; whatever answered is shown.
  const [view, description] = await Promise.all([
    handle.query(sceneStatusQuery).catch(() => undefined),
    handle.describe().catch(() => undefined),
  ]);
  const progress: SceneProgress = { ...view, index };
  const waiting = description?.raw.pendingActivities?.find((a) => WAITS.has(a.activityType?.name ?? ''));
  let payloads = waiting?.heartbeatDetails?.payloads;
  if (payloads?.length) {
    // Details are stored as the worker encoded them: undo its codecs (encryption) in reverse, then convert.
    const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    const details = fromPayloadsAtIndex<{ progress?: unknown; state?: unknown }>(payloadConverter, 0, payloads);
    if (typeof details?.progress === 'number') progress.progress = details.progress;
    if (typeof details?.state === 'string') progress.upstream = details.state;
  }
  return progress;
}
