/**
 * What one Kling account knows besides its video jobs (those live in the shared JobStore):
 * its elements and their creation tasks, the external ids it has seen (unique per account,
 * forever), and how its video tasks were ordered. Ids look like Kling's: 18-digit task ids,
 * 15-digit element ids (below 2^53, so JSON numbers keep them exact).
 */
import type { Job } from './jobs';

export type KlingTaskStatus = 'submitted' | 'processing' | 'succeeded' | 'failed';

export interface ElementTaskRecord {
  taskId: string;
  externalId?: string;
  elementId: string;
  name: string;
  description: string;
  referenceType: 'image_refer' | 'video_refer';
  createdAtMs: number;
  durationMs: number;
  /** Set when the element was deleted (by either delete path). */
  deletedAtMs?: number;
}

/** How a video task was ordered, as its record echoes it. */
export interface KlingOrder {
  externalId?: string;
  model: string;
  resolution: string;
  aspectRatio: string;
  audio: string;
  units: number;
  callbackUrl?: string;
}

const TASK_ID_BASE = 930_831_530_000_000_000n;
const ELEMENT_ID_BASE = 321_900_000_000_000;

export class KlingAccount {
  private taskCounter = 0;
  private elementCounter = 0;
  private readonly externalIds = new Map<string, string>();
  private readonly elementTasks = new Map<string, ElementTaskRecord>();
  private readonly orders = new Map<string, KlingOrder>();

  nextTaskId(): string {
    this.taskCounter += 1;
    return String(TASK_ID_BASE + BigInt(this.taskCounter));
  }

  nextElementId(): string {
    this.elementCounter += 1;
    return String(ELEMENT_ID_BASE + this.elementCounter);
  }

  /** The task id an external id was used for (video or element), if any. */
  taskOfExternal(externalId: string): string | undefined {
    return this.externalIds.get(externalId);
  }

  claimExternal(externalId: string, taskId: string): void {
    this.externalIds.set(externalId, taskId);
  }

  addElementTask(task: ElementTaskRecord): void {
    this.elementTasks.set(task.taskId, task);
  }

  elementTask(taskId: string): ElementTaskRecord | undefined {
    return this.elementTasks.get(taskId);
  }

  elementTasksAll(): ElementTaskRecord[] {
    return [...this.elementTasks.values()];
  }

  /** The element (finished creation task, not deleted) with this id. */
  element(elementId: string, nowMs: number): ElementTaskRecord | undefined {
    for (const task of this.elementTasks.values()) {
      if (task.elementId !== elementId) continue;
      return elementStatus(task, nowMs) === 'succeeded' && task.deletedAtMs === undefined ? task : undefined;
    }
    return undefined;
  }

  /** Any element with this id that has been created, deleted ones included. */
  elementEver(elementId: string): ElementTaskRecord | undefined {
    return [...this.elementTasks.values()].find((t) => t.elementId === elementId);
  }

  setOrder(taskId: string, order: KlingOrder): void {
    this.orders.set(taskId, order);
  }

  order(job: Job): KlingOrder | undefined {
    return this.orders.get(job.id);
  }
}

/** Element tasks are quick (about 5 s live) and always succeed here; moderation refuses them at create. */
export function elementStatus(task: ElementTaskRecord, nowMs: number): KlingTaskStatus {
  const elapsed = nowMs - task.createdAtMs;
  if (elapsed >= task.durationMs) return 'succeeded';
  return elapsed >= task.durationMs * 0.1 ? 'processing' : 'submitted';
}
