import { log, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { budgetView } from '../budget';
import { seriesStatusQuery, type Pause, type SeriesStatusView } from '../messages';
import { ProvidersUsed, ScenesDone, ScenesTotal, SeriesCostUsd, SeriesStatusKey } from '../search-attributes';
import type { SceneResult, SeriesStatus } from '../types';
import type { Routes } from './routes';
import type { SeriesRun } from './state';

/**
 * What the series says about itself: the status query, the SeriesStatus search attribute (published
 * only when it changes), and the budget pause, which is status only (what waits, and for how much).
 */
export class StatusBoard {
  /** What waits for budget now (`scene <n>` or a scene's take), and the amount it needs. */
  private readonly budgetWaits: Record<string, number> = {};
  private budgetPausedSince = 0;
  private published: SeriesStatus = 'running';

  constructor(
    private readonly run: SeriesRun,
    private readonly routes: Routes,
  ) {}

  /** Why nothing new starts: a person's pause first, else the first budget wait. */
  pause(): Pause | undefined {
    const { state, ledger } = this.run;
    if (state.paused) return state.paused;
    const waiting = Object.entries(this.budgetWaits);
    if (!waiting.length || ledger.budgetUsd === undefined) return undefined;
    const [what, usd] = waiting[0];
    const view = budgetView(ledger);
    return {
      by: 'budget',
      reason: `budget: ${what} needs $${usd.toFixed(2)} but $${(view.remainingUsd ?? 0).toFixed(2)} of $${ledger.budgetUsd.toFixed(2)} remains; raise the budget (raiseBudget) or cancel`,
      since: this.budgetPausedSince,
    };
  }

  live(): SeriesStatus {
    const { run } = this;
    return (
      run.ended ??
      (this.pause()
        ? 'paused'
        : run.running.size === 0 && !run.hasWork() && run.needsReview().length
          ? 'awaiting_approval'
          : 'running')
    );
  }

  publish(): void {
    const now = this.live();
    if (now === this.published) return;
    this.published = now;
    upsertSearchAttributes([{ key: SeriesStatusKey, value: now }]);
  }

  waitForBudget(what: string, usd: number): void {
    if (!Object.keys(this.budgetWaits).length) {
      this.budgetPausedSince = Date.now();
      log.warn('budget reached: series paused', { what, needUsd: usd, ...budgetView(this.run.ledger) });
    }
    this.budgetWaits[what] = usd;
    this.publish();
  }

  budgetWaitOver(what: string): void {
    if (!(what in this.budgetWaits)) return;
    delete this.budgetWaits[what];
    if (!Object.keys(this.budgetWaits).length)
      log.info('budget allows submissions again: series resumed', { ...budgetView(this.run.ledger) });
    this.publish();
  }

  /** Answers the status query. */
  listen(): void {
    setHandler(seriesStatusQuery, () => this.view());
  }

  view(): SeriesStatusView {
    const { series, state, ledger, running } = this.run;
    const paused = this.pause();
    return {
      name: series.name,
      status: this.live(),
      ...(paused ? { paused } : {}),
      ...(state.cancelled ? { cancelled: state.cancelled } : {}),
      routing: series.routing,
      budget: budgetView(ledger),
      scenesTotal: series.scenes.length,
      scenesDone: state.results.length,
      running: [...running],
      queued: [...(state.retries ?? []).map((r) => r.index), ...series.scenes.slice(state.next).map((s) => s.index)],
      awaitingReview: this.run.needsReview().sort((a, b) => a - b),
      costUsd: this.run.costUsd(),
      providerHealth: this.routes.health(),
      circuits: state.circuits,
      character: {
        name: state.passport.name,
        providers: Object.keys(state.passport.refs),
        refused: state.passport.refused,
      },
      ...(state.cast
        ? {
            cast: Object.values(state.cast).map((p) => ({
              name: p.name,
              providers: Object.keys(p.refs),
              refused: p.refused,
            })),
          }
        : {}),
      scenes: state.results,
      refusedScenes: state.refusedScenes ?? [],
      manifestPath: this.run.manifestPath,
      uncertainSubmissions: this.run.uncertain.view(),
    };
  }
}

export function publishScenesTotal(run: SeriesRun): void {
  upsertSearchAttributes([{ key: ScenesTotal, value: run.series.scenes.length }]);
}

/** Scenes done, cost so far and providers used, after a scene settles. */
export function publishProgress(run: SeriesRun): void {
  const { results } = run.state;
  upsertSearchAttributes([
    { key: ScenesDone, value: results.length },
    { key: SeriesCostUsd, value: run.costUsd() },
    { key: ProvidersUsed, value: providersUsed(results) },
  ]);
}

function providersUsed(results: SceneResult[]): string[] {
  return [...new Set(results.flatMap((r) => (r.provider ? [r.provider] : [])))].sort();
}
