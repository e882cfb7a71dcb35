import { temporal } from '@temporalio/proto';
import { defaultProviderConfig } from '../activities/providers/config';
import { startSeries } from '../client/series/series-client';
import { sceneProgress } from '../client/series/scene-progress';
import { startHarness, type Harness } from './helpers/harness';
import { seriesInput } from './helpers/specs';

const EventType = temporal.api.enums.v1.EventType;
const SCHEDULED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;

/**
 * Waiting holds nothing: a scene's job is checked by one activity whose attempts the server
 * retries (benign JobNotReady) at the times the check plan names, the last attempt stores the
 * video. Between checks the wait is the server's (pending, scheduled), not a worker's.
 */
describe('collecting a job by server-retried checks', () => {
  let h: Harness;
  beforeAll(async () => {
    // 6 s jobs where the provider profile expects 2 s: the plan has to follow the job's progress.
    h = await startHarness({
      simulator: { jobSeconds: 6, jitter: 0 },
      pollIntervalMs: 200,
      providers: (sim, tuning) => defaultProviderConfig(sim.url, { ...tuning, expectedJobSeconds: 2 }),
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('a scene waits with no activity on a worker, shows progress, checks a few times and stores in the last check', async () => {
    const handle = await startSeries(h.client, seriesInput(h.sim.url, { providers: ['official'] }, 2), {
      taskQueue: h.taskQueue,
    });
    const sceneId = `${handle.workflowId}/scene-1`;
    let heldByServerWithProgress = false;
    let done = false;
    const result = handle.result().finally(() => (done = true));
    while (!done && !heldByServerWithProgress) {
      const description = await h.client.workflow
        .getHandle(sceneId)
        .describe()
        .catch(() => undefined);
      const pending = description?.raw.pendingActivities?.find((a) => a.activityType?.name === 'collectJob');
      const progress = await sceneProgress(h.client, handle.workflowId, 1);
      if (pending?.state === SCHEDULED && (progress.progress ?? 0) > 0) heldByServerWithProgress = true;
      await new Promise((r) => setTimeout(r, 100));
    }
    const series = await result;
    expect(series.status).toBe('completed');
    expect(series.scenes.map((s) => s.status)).toEqual(['completed', 'completed']);
    // Between two checks the scene's wait sat on the server, with the last check's progress for `watch`.
    expect(heldByServerWithProgress).toBe(true);

    const events = (await h.client.workflow.getHandle(sceneId).fetchHistory()).events ?? [];
    const activities = events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
    expect(activities).toEqual(['submitTake', 'collectJob']);
    const collect = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'collectJob',
    )?.eventId;
    const started = events.find(
      (e) =>
        e.activityTaskStartedEventAttributes &&
        String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(collect),
    );
    // At least one wait between checks was the server's (a later attempt found the job done).
    expect(started?.activityTaskStartedEventAttributes?.attempt ?? 0).toBeGreaterThanOrEqual(2);
    const calls = h.sim.calls().byEndpoint.official;
    const statusCalls = (calls.retrieve ?? 0) + (calls.list ?? 0);
    // A few checks per job (the plan follows the progress), never a poll loop.
    expect(statusCalls / 2).toBeGreaterThanOrEqual(2);
    expect(statusCalls / 2).toBeLessThanOrEqual(10);
    expect(series.scenes[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);
});
