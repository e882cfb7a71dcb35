/**
 * Where a series' time goes besides waiting on the upstream, from its real histories (server
 * timestamps) and the simulator's ledger (when each job was accepted). Means per scene, in ms:
 *
 *   startup          series start -> first scene started (clip stored, character created, first slot)
 *   turnaround       a scene done -> the next scene started in its place (slot release/ask/grant, child start)
 *   childStart       start-child command -> the child running
 *   submitLag        scene running -> its job accepted upstream
 *   jobToNotice      job accepted -> the check that found it done (the job's own time plus the notice delay)
 *   wrapUp           that check -> scene completed (download, store, result)
 *   finish           last scene done -> series completed (the episode cut, the manifest)
 *
 * and `laneSeconds`: the scenes' jobToNotice times packed C at a time in start order with no gaps,
 * the time an orchestrator with zero overhead of its own would have needed with these very jobs.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { RunningSimulator } from '../../simulator/server';
import { parseSceneWorkflowId } from '../../workflows/ids';
import { eventTimeMs, historyOf, jobNoticedByPolling } from './histories';

const EventType = temporal.api.enums.v1.EventType;

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

export async function profileSeries(
  client: Client,
  seriesId: string,
  sim: RunningSimulator,
  concurrency: number,
): Promise<Record<string, number>> {
  const parent = await historyOf(client, seriesId);
  const acceptedAt = new Map(
    sim
      .ledger()
      .flatMap((e) =>
        e.idempotencyKey ? [[e.idempotencyKey.replace(/\/take-\d+$/, ''), Date.parse(e.at)] as const] : [],
      ),
  );
  // Scene children only: the episode the series cuts as it ends is part of its finish.
  const isScene = (id: string | null | undefined) => parseSceneWorkflowId(id ?? '') !== undefined;
  const initiated = parent.filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED &&
      isScene(e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId),
  );
  const started = parent.filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED &&
      isScene(e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId),
  );
  const done = parent
    .filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED &&
        isScene(e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId),
    )
    .map(eventTimeMs);
  const startedById = new Map(
    started.map((e) => [
      e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ?? '',
      eventTimeMs(e),
    ]),
  );

  const turnaround: number[] = [];
  const childStart: number[] = [];
  for (const e of initiated) {
    const at = eventTimeMs(e);
    const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? '';
    const freedBy = done.filter((t) => t <= at);
    if (freedBy.length) turnaround.push(at - freedBy[freedBy.length - 1] + ((startedById.get(id) ?? at) - at));
    if (startedById.has(id)) childStart.push(startedById.get(id)! - at);
  }

  const submitLag: number[] = [];
  const jobToNotice: number[] = [];
  const wrapUp: number[] = [];
  for (const e of initiated) {
    const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? '';
    const scene = await historyOf(client, id);
    const sceneStart = eventTimeMs(scene[0]);
    const sceneEnd = eventTimeMs(scene[scene.length - 1]);
    const noticed = jobNoticedByPolling(scene).pop();
    const accepted = acceptedAt.get(id);
    if (accepted !== undefined) submitLag.push(accepted - sceneStart);
    if (accepted !== undefined && noticed !== undefined) jobToNotice.push(noticed - accepted);
    if (noticed !== undefined) wrapUp.push(sceneEnd - noticed);
  }
  const lanes = Array.from({ length: concurrency }, () => 0);
  for (const ms of jobToNotice) {
    const free = lanes.indexOf(Math.min(...lanes));
    lanes[free] += ms;
  }
  const seriesStart = eventTimeMs(parent[0]);
  const seriesEnd = eventTimeMs(parent[parent.length - 1]);
  return {
    startupMs: (startedById.size ? Math.min(...startedById.values()) : NaN) - seriesStart,
    turnaroundMs: mean(turnaround),
    childStartMs: mean(childStart),
    submitLagMs: mean(submitLag),
    jobToNoticeMs: mean(jobToNotice),
    wrapUpMs: mean(wrapUp),
    finishMs: seriesEnd - Math.max(...done),
    laneSeconds: Math.max(...lanes) / 1000,
  };
}

export const prefixed = (prefix: string, values: Record<string, number>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
