/**
 * Reading real histories: event counts per run (following continue-as-new), and the moments a
 * scene learnt something (server timestamps), which the notice case compares with the simulator.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export function eventTimeMs(event: HistoryEvent): number {
  const t = event.eventTime;
  if (!t) return NaN;
  const seconds = typeof t.seconds === 'number' ? t.seconds : Number(t.seconds?.toString() ?? NaN);
  return seconds * 1000 + (t.nanos ?? 0) / 1e6;
}

export async function historyOf(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

/** Event counts of every run of a workflow, first to last: from the latest run back along continue-as-new. */
export async function eventsPerRun(client: Client, workflowId: string): Promise<number[]> {
  const counts: number[] = [];
  for (let runId: string | undefined, first = true; first || runId; first = false) {
    const events = await historyOf(client, workflowId, runId);
    counts.unshift(events.length);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return counts;
}

/** Activities scheduled in a history (how many of each type). */
export function activitiesScheduled(events: HistoryEvent[]): number {
  return events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length;
}

/** When the workflow heard that `activityType` completed (its ActivityTaskCompleted events), server time. */
export function activityCompletions(events: HistoryEvent[], activityType: string): number[] {
  const scheduled = new Set(
    events
      .filter(
        (e) =>
          e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
          e.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
      )
      .map((e) => String(e.eventId)),
  );
  return events
    .filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED &&
        scheduled.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)),
    )
    .map(eventTimeMs);
}

/**
 * When the wait that ended a job began its last attempt, server time: a retried activity's started
 * event is the attempt that completed, so for collectJob it is the check that found the job done.
 */
export function completedAttemptStarts(events: HistoryEvent[], activityType: string): number[] {
  const scheduled = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .map((e) => String(e.eventId)),
  );
  const completed = new Set(
    events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
      .map((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId)),
  );
  return events
    .filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED &&
        scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) &&
        completed.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)),
    )
    .map(eventTimeMs);
}

/** `foundAtMs` of each completed collectJob: when its deciding check returned (worker time). */
function collectFindings(events: HistoryEvent[]): number[] {
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
    .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
    .flatMap((data) => {
      if (!data) return [];
      try {
        const found = (JSON.parse(Buffer.from(data).toString('utf8')) as { foundAtMs?: unknown }).foundAtMs;
        return typeof found === 'number' ? [found] : [];
      } catch {
        return [];
      }
    });
}

/**
 * When the scene knew its job had ended by polling: the deciding check (collectJob's `foundAtMs`;
 * without one, the start of its completed attempt) or, in older scenes, awaitJob's end.
 */
export function jobNoticedByPolling(events: HistoryEvent[]): number[] {
  const found = collectFindings(events);
  return [
    ...(found.length ? found : completedAttemptStarts(events, 'collectJob')),
    ...activityCompletions(events, 'awaitJob'),
  ];
}

/** When a signal of this name reached the workflow, server time. */
export function signalsReceived(events: HistoryEvent[], signalName: string): number[] {
  return events
    .filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
        e.workflowExecutionSignaledEventAttributes?.signalName === signalName,
    )
    .map(eventTimeMs);
}

/** The heartbeat timeout of the first activity of this type, in seconds (what the recovery target is built on). */
export function heartbeatTimeoutSeconds(events: HistoryEvent[], activityType: string): number {
  const attrs = events.find(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
      e.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
  )?.activityTaskScheduledEventAttributes;
  const timeout = attrs?.heartbeatTimeout;
  if (!timeout) return NaN;
  const seconds = typeof timeout.seconds === 'number' ? timeout.seconds : Number(timeout.seconds?.toString() ?? NaN);
  return seconds + (timeout.nanos ?? 0) / 1e9;
}

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
