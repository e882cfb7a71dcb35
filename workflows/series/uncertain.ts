import { patched, upsertMemo } from '@temporalio/workflow';
import type { TakeBudgetAsk } from '../messages';
import { addUncertain, uncertainOfScenes, type UncertainCount } from '../uncertain-submissions';
import type { SeriesRun } from './state';

/** Patch: the series counts uncertain submissions against its budget and in its memo (runs without it did neither). */
const SERIES_COUNTS_UNCERTAIN = 'series-uncertain-submissions';

/**
 * The series' uncertain submissions: settled ones from its scenes' takes (against the budget, in
 * the ledger), and those of scenes in flight as they report them when asking for their next take
 * (the scene's hold covers their price meanwhile). Published in the memo, seen in the Web UI.
 */
export class UncertainSubmissions {
  private readonly inFlight: Record<number, UncertainCount> = {};
  private publishedCount = 0;
  private counts?: boolean;

  constructor(private readonly run: SeriesRun) {}

  /** Carried results (continue-as-new) that hold some count against the new run's budget. */
  carried(): void {
    this.settle();
  }

  /** A scene in flight asks for its next take and says what it may have paid so far. */
  asked(ask: TakeBudgetAsk): void {
    if (!ask.uncertain?.count) return;
    this.inFlight[ask.index] = ask.uncertain;
    this.publish();
  }

  /** A scene has settled: its uncertain takes are in its result now. */
  settled(index: number): void {
    delete this.inFlight[index];
    this.settle();
  }

  /** Settled plus in flight (query-safe: no commands). */
  view(): UncertainCount {
    return addUncertain(uncertainOfScenes(this.run.state.results), ...Object.values(this.inFlight));
  }

  private settle(): void {
    const settled = uncertainOfScenes(this.run.state.results);
    if (settled.count && this.patchedIn()) this.run.ledger.uncertainUsd = settled.usd;
    this.publish();
  }

  private publish(): void {
    const now = this.view();
    if (now.count === this.publishedCount || !this.patchedIn()) return;
    this.publishedCount = now.count;
    upsertMemo({ uncertainSubmissions: now.count, uncertainUsd: now.usd });
  }

  /** Asked only once there is something uncertain: runs that never have one carry no marker. */
  private patchedIn(): boolean {
    return (this.counts ??= patched(SERIES_COUNTS_UNCERTAIN));
  }
}
