/**
 * How the twins deliver their callbacks: a JSON POST per attempt (headers made fresh, so each
 * attempt is timestamped and signed anew), retried after the given pauses, each delivery kept in
 * a bounded log for tests and the admin view. Timers are unref'd: a pending callback keeps no
 * process (or jest) alive, and `close` stops every one.
 */

/** What every twin's log records of one delivery (each twin adds its own fields). */
export interface DeliveryRecord {
  url: string;
  attempts: number;
  outcome: 'pending' | 'delivered' | 'failed';
  /** HTTP status of the last attempt, or the network error's message. */
  lastResult?: number | string;
}

export interface PostOptions {
  /** Headers of one attempt (signatures are over its own timestamp). */
  headers: () => Record<string, string>;
  /** Per-attempt timeout (ms). */
  timeoutMs: number;
  /** Pauses before each retry; empty: one attempt. */
  retryDelaysMs: readonly number[];
}

const MAX_KEPT = 1000;

export class CallbackPoster<T extends DeliveryRecord> {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: T[] = [];
  private closed = false;

  constructor(private readonly userAgent: string) {}

  deliveries(): T[] {
    return this.log.map((d) => ({ ...d }));
  }

  /** Logs `record` and delivers `body` to its URL. */
  post(record: T, body: string, options: PostOptions): void {
    this.log.push(record);
    if (this.log.length > MAX_KEPT) this.log.shift();
    void this.attempt(record, body, options);
  }

  /** Calls `run` in `ms`, unless closed by then. */
  after(ms: number, run: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.closed) run();
      },
      Math.max(0, ms),
    );
    timer.unref();
    this.timers.add(timer);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async attempt(record: T, body: string, options: PostOptions): Promise<void> {
    record.attempts += 1;
    try {
      const response = await fetch(record.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': this.userAgent, ...options.headers() },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      record.lastResult = response.status;
      if (response.ok) {
        record.outcome = 'delivered';
        return;
      }
    } catch (error) {
      record.lastResult = error instanceof Error ? error.message : String(error);
    }
    const delay = options.retryDelaysMs[record.attempts - 1];
    if (delay === undefined || this.closed) {
      record.outcome = 'failed';
      return;
    }
    this.after(delay, () => void this.attempt(record, body, options));
  }
}
