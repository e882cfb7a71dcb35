/**
 * Workflow-side metrics, through Temporal's workflow `metricMeter`: it emits nothing while a
 * workflow replays, so a series resumed on another worker does not count its takes twice.
 * Call each function once per event, when the event is final.
 */
import { metricMeter } from '@temporalio/workflow';
import { METRIC } from './metric-names';
import type { SceneResult, TakeRecord } from './types';

/** A take that has ended (its outcome and cost are final): counted, and its billed cost recorded. */
export function recordTake(take: TakeRecord): void {
  metricMeter
    .createCounter(METRIC.takes, undefined, 'takes that ended, by provider and outcome')
    .add(1, { provider: take.provider, outcome: take.outcome });
  if (take.costUsd > 0) {
    metricMeter
      .createHistogram(METRIC.takeCostUsd, 'float', 'USD', 'billed cost per take, by provider')
      .record(take.costUsd, { provider: take.provider });
  }
}

/** A scene workflow's final result. */
export function recordSceneEnd(result: SceneResult): void {
  metricMeter
    .createCounter(METRIC.scenesFinished, undefined, 'scenes that ended, by status')
    .add(1, { status: result.status });
}

/** A scene moved on from one provider to the next in its chain. */
export function recordFallback(from: string, to: string): void {
  metricMeter
    .createCounter(METRIC.fallbacks, undefined, 'scenes moved from one provider to another')
    .add(1, { from, to });
}
