/**
 * What Kling's task and element records mean to the adapter: the job state they say, the element
 * they made, and status reads of many jobs batched into one `GET /tasks`.
 */
import { createHash } from 'node:crypto';
import { classifyJobFailure } from './errors';
import type { ElementTask, TaskRecord } from './kling-wire';
import type { JobState, JobStatus, LocalFile } from './provider';

const STATE_BY_STATUS: Record<TaskRecord['status'], JobState> = {
  submitted: 'queued',
  processing: 'running',
  succeeded: 'completed',
  failed: 'failed',
};

/**
 * Status reads of many scenes' jobs within a few milliseconds go out as one `GET /tasks` (up to
 * 20 ids a call): fewer calls against Kling's unmeasured query limit (§9).
 */
export class TaskBatcher {
  #waiting = new Map<string, Array<{ resolve: (t: TaskRecord | undefined) => void; reject: (e: unknown) => void }>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly query: (ids: string[]) => Promise<TaskRecord[]>,
    private readonly windowMs: number,
  ) {}

  get(id: string): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, [...(this.#waiting.get(id) ?? []), { resolve, reject }]);
      if (this.#timer === undefined) this.#timer = setTimeout(() => void this.#flush(), this.windowMs);
    });
  }

  async #flush(): Promise<void> {
    const waiting = this.#waiting;
    this.#waiting = new Map();
    this.#timer = undefined;
    try {
      const tasks = new Map((await this.query([...waiting.keys()])).map((t) => [t.id, t]));
      for (const [id, callers] of waiting) callers.forEach((c) => c.resolve(tasks.get(id)));
    } catch (err) {
      for (const callers of waiting.values()) callers.forEach((c) => c.reject(err));
    }
  }
}

export function toJobStatus(task: TaskRecord): JobStatus {
  const state = STATE_BY_STATUS[task.status];
  // Kling reports no progress: a running task is shown half-way.
  const progress = state === 'completed' ? 100 : state === 'running' ? 50 : 0;
  if (state !== 'failed') return { jobId: task.id, state, progress };
  // Failed records carry no business code, only `message` (§4): classified by its words.
  return { jobId: task.id, state, progress, error: klingTaskFailure(task.message ?? undefined) };
}

/** A failed task or element says why only in words: a content refusal is told by them. */
export function klingTaskFailure(message: string | undefined): NonNullable<JobStatus['error']> {
  return classifyJobFailure(message && KLING_REFUSAL.test(message) ? 'content_violation' : undefined, message);
}

/** How Kling words a content refusal of the output ("risk control", content safety); its exact texts are unconfirmed. */
const KLING_REFUSAL = /risk control|content.?safety|sensitive|violat|moderat/i;

export function elementOf(task: ElementTask): { id: string; deleted: boolean } | undefined {
  const element = task.task_result?.elements?.[0];
  return element ? { id: element.element_id, deleted: element.status === 'deleted' } : undefined;
}

/** Same character material, same external id: `el-<sha256 of name, description and stills>`. */
export function elementExternalId(input: { name: string; description: string; stills: LocalFile[] }): string {
  const hash = createHash('sha256');
  for (const part of [input.name, input.description, ...input.stills.map((s) => s.sha256)]) hash.update(`${part}\0`);
  return `el-${hash.digest('hex').slice(0, 32)}`;
}
