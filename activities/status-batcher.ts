import type { JobStatus, VideoProvider } from './providers/provider';

/** Checks of one provider that arrive within this window share one batch read. */
export const BATCH_WINDOW_MS = 20;

interface Pending {
  resolve(status: JobStatus): void;
  reject(err: unknown): void;
}

/**
 * Status reads of one worker, coalesced per provider: checks that come in together (many scenes
 * of a worker at scale) go out as one `getJobs` call where the contract has one. Jobs the batch
 * read did not find, and providers without one, are read with `getJob`.
 */
export class StatusBatcher {
  private readonly queued = new Map<VideoProvider, Map<string, Pending[]>>();

  constructor(private readonly windowMs = BATCH_WINDOW_MS) {}

  read(provider: VideoProvider, jobId: string): Promise<JobStatus> {
    if (!provider.getJobs) return provider.getJob(jobId);
    return new Promise((resolve, reject) => {
      let batch = this.queued.get(provider);
      if (!batch) {
        batch = new Map();
        this.queued.set(provider, batch);
        setTimeout(() => void this.flush(provider), this.windowMs);
      }
      const waiting = batch.get(jobId) ?? [];
      waiting.push({ resolve, reject });
      batch.set(jobId, waiting);
    });
  }

  private async flush(provider: VideoProvider): Promise<void> {
    const batch = this.queued.get(provider);
    this.queued.delete(provider);
    if (!batch) return;
    const ids = [...batch.keys()];
    const settle = (id: string, outcome: { status: JobStatus } | { err: unknown }) => {
      for (const p of batch.get(id) ?? []) {
        if ('status' in outcome) p.resolve(outcome.status);
        else p.reject(outcome.err);
      }
    };
    let found: JobStatus[] = [];
    if (ids.length > 1) {
      try {
        found = await provider.getJobs!(ids);
      } catch (err) {
        for (const id of ids) settle(id, { err });
        return;
      }
    }
    for (const status of found) settle(status.jobId, { status });
    const missing = ids.filter((id) => !found.some((s) => s.jobId === id));
    await Promise.all(
      missing.map((id) =>
        provider.getJob(id).then(
          (status) => settle(id, { status }),
          (err: unknown) => settle(id, { err }),
        ),
      ),
    );
  }
}
