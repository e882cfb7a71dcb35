/**
 * The least Temporal work a series needs, for the overhead case: a parent that runs its scenes as
 * children in the same sliding window as the product's series, each scene the same number of
 * activities as a real scene, and every activity a no-op. Bundled by the no-op worker only.
 */
import { condition, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NoopActivities } from './noop-activities';

const { noop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '1 minute' });

export interface NoopSeriesInput {
  scenes: number;
  window: number;
  /** Activities of a scene (a real one: submit, await, store). */
  sceneActivities: number;
  /** Activities the series itself runs before its scenes and after them (a real one: profiles, clip, character / manifest). */
  activitiesBefore: number;
  activitiesAfter: number;
}

export async function noopSceneWorkflow(activities: number): Promise<number> {
  for (let i = 0; i < activities; i++) await noop();
  return activities;
}

export async function noopSeriesWorkflow(input: NoopSeriesInput): Promise<number> {
  for (let i = 0; i < input.activitiesBefore; i++) await noop();
  const selfId = workflowInfo().workflowId;
  let running = 0;
  const scenes: Array<Promise<number>> = [];
  for (let index = 1; index <= input.scenes; index++) {
    await condition(() => running < input.window);
    running++;
    scenes.push(
      executeChild(noopSceneWorkflow, {
        workflowId: `${selfId}/scene-${index}`,
        args: [input.sceneActivities],
      }).finally(() => {
        running--;
      }),
    );
  }
  await Promise.all(scenes);
  for (let i = 0; i < input.activitiesAfter; i++) await noop();
  return scenes.length;
}
