import type { Client } from '@temporalio/client';
import { continuityLabel } from '../series/continuity';
import { seriesStatusQuery, type BudgetView, type SeriesStatusView } from '../../workflows/messages';
import { ScenesTotal } from '../../workflows/search-attributes';
import { describeSeries, seriesReport, type SeriesReport } from '../series/series-client';
import { sceneProgress, type SceneProgress } from '../series/scene-progress';
import type { UncertainCount } from '../../workflows/uncertain-submissions';
import { uncertainLine } from './run';

/**
 * `sora-series watch`: a live view of one series until it ends. Each tick reads the series'
 * status query and, per running scene, its scene status and upstream progress. On a terminal the
 * view is redrawn in place; otherwise (logs, pipes, tests) a line is printed only when it changed.
 */

export interface WatchSnapshot {
  id: string;
  status: string;
  scenesDone: number;
  scenesTotal: number;
  costUsd: number;
  /** Submits that may have been billed without a job (or twice): shown whenever there is one. */
  uncertainSubmissions?: UncertainCount;
  budget?: BudgetView;
  paused?: { by: string; reason: string };
  cancelled?: { reason: string };
  awaitingReview: number[];
  queued: number[];
  running: SceneProgress[];
  /** Finished scenes, one short line each (printed once, again when a retake changes them). */
  finished: Array<{
    index: number;
    status: string;
    provider?: string;
    /** Per library character (`mira kept, tom kept`); the one-character form's lines stay as they were. */
    continuity?: string;
    costUsd: number;
    takes: number;
    reason?: string;
  }>;
  /** Set on the last snapshot: the series no longer runs. */
  ended?: boolean;
  manifestPath?: string;
  error?: string;
}

/** The steering fields are optional: series running workflow code without steering do not report them. */
type StatusView = Omit<
  SeriesStatusView,
  'paused' | 'cancelled' | 'budget' | 'queued' | 'awaitingReview' | 'uncertainSubmissions'
> &
  Partial<SeriesStatusView>;

/** The series did not answer its status query (first workflow task pending, or a codec key mismatch): why. */
interface NoAnswer {
  unanswered: string;
}

async function snapshotOf(client: Client, id: string): Promise<WatchSnapshot | NoAnswer> {
  const { handle, description } = await describeSeries(client, id);
  if (description.status.name !== 'RUNNING') {
    const cancelled = description.status.name === 'COMPLETED' ? await cancellationOf(client, id) : undefined;
    // The report counts the scenes that ran; the attribute how many the series had (a cancelled one ran fewer).
    const total = description.typedSearchAttributes.get(ScenesTotal);
    return endedSnapshot(await seriesReport(client, id), total, cancelled);
  }
  let view: StatusView;
  try {
    view = await handle.query(seriesStatusQuery);
  } catch (err) {
    return { unanswered: (err as Error).message };
  }
  const running = await Promise.all(
    [...view.running].sort((a, b) => a - b).map((index) => sceneProgress(client, id, index)),
  );
  return {
    id,
    status: view.status,
    scenesDone: view.scenesDone,
    scenesTotal: view.scenesTotal,
    costUsd: view.costUsd,
    ...(view.uncertainSubmissions?.count ? { uncertainSubmissions: view.uncertainSubmissions } : {}),
    ...(view.budget ? { budget: view.budget } : {}),
    ...(view.paused ? { paused: { by: view.paused.by, reason: view.paused.reason } } : {}),
    ...(view.cancelled ? { cancelled: view.cancelled } : {}),
    awaitingReview: [...(view.awaitingReview ?? [])].sort((a, b) => a - b),
    queued: [...(view.queued ?? [])].sort((a, b) => a - b),
    running,
    finished: [...view.scenes]
      .sort((a, b) => a.index - b.index)
      .map((s) => ({
        index: s.index,
        status: s.status,
        provider: s.provider,
        ...(s.continuityByCharacter ? { continuity: continuityLabel(s) } : {}),
        costUsd: s.costUsd,
        takes: s.takes.length,
        ...(s.reason ? { reason: s.reason } : {}),
      })),
  };
}

/** Why a series ended cancelled, from its result (the report leaves it out). */
async function cancellationOf(client: Client, id: string): Promise<{ reason: string } | undefined> {
  const result = (await client.workflow.getHandle(id).result()) as { cancelled?: { reason?: unknown } };
  return typeof result?.cancelled?.reason === 'string' ? { reason: result.cancelled.reason } : undefined;
}

function endedSnapshot(
  report: SeriesReport,
  total: number | undefined,
  cancelled: { reason: string } | undefined,
): WatchSnapshot {
  return {
    id: report.id,
    status: report.status,
    scenesDone: report.scenesDone ?? report.scenes.length,
    scenesTotal: Math.max(total ?? 0, report.scenesTotal ?? report.scenes.length),
    ...(cancelled ? { cancelled } : {}),
    costUsd: report.costUsd,
    ...(report.uncertainSubmissions?.count ? { uncertainSubmissions: report.uncertainSubmissions } : {}),
    awaitingReview: [],
    queued: [],
    running: [],
    finished: report.scenes.map((s) => ({
      index: s.index,
      status: s.status,
      provider: s.provider,
      ...(s.continuityByCharacter ? { continuity: continuityLabel(s) } : {}),
      costUsd: s.costUsd,
      takes: s.takes,
      ...(s.reason ? { reason: s.reason } : {}),
    })),
    ended: true,
    ...(report.manifestPath ? { manifestPath: report.manifestPath } : {}),
    ...(report.error ? { error: report.error } : {}),
  };
}

const usd = (n: number) => `$${n.toFixed(2)}`;

export function progressBar(percent: number | undefined, width = 20): string {
  if (percent === undefined) return `[${' '.repeat(width)}]   ?%`;
  const p = Math.max(0, Math.min(100, percent));
  const full = Math.round((p / 100) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.round(p)).padStart(3)}%`;
}

const indexes = (list: number[], max = 12) =>
  `${list.slice(0, max).join(', ')}${list.length > max ? `, ... (${list.length})` : ''}`;

/** The live lines, keyed so a plain printer can tell which one changed. */
export function liveLines(s: WatchSnapshot): Array<[key: string, line: string]> {
  const money =
    s.budget?.budgetUsd !== undefined
      ? `${usd(s.costUsd)} spent, ${usd(s.budget.reservedUsd)} reserved of a ${usd(s.budget.budgetUsd)} budget`
      : `${usd(s.costUsd)} so far`;
  const lines: Array<[string, string]> = [
    ['series', `${s.id}: ${s.status}, ${s.scenesDone}/${s.scenesTotal} scenes done, ${money}`],
  ];
  if (s.uncertainSubmissions) lines.push(['uncertain', uncertainLine(s.uncertainSubmissions)]);
  if (s.paused) lines.push(['paused', `paused by ${s.paused.by}: ${s.paused.reason}`]);
  if (s.cancelled) lines.push(['cancelled', `cancelling: ${s.cancelled.reason} (running jobs finish and are paid)`]);
  if (s.awaitingReview.length)
    lines.push([
      'review',
      `awaiting review: scene ${indexes(s.awaitingReview)} (sora-series takes, then approve or reject)`,
    ]);
  if (s.queued.length) lines.push(['queued', `queued: scene ${indexes(s.queued)}`]);
  for (const scene of s.running) {
    const where = [
      `${scene.phase ?? 'starting'}${scene.provider ? ` on ${scene.provider}` : ''}`,
      scene.take && `take ${scene.take}`,
      scene.jobId && `job ${scene.jobId}`,
      scene.uncertain?.count && `${scene.uncertain.count} uncertain submission(s)`,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push([`scene ${scene.index}`, `  scene ${scene.index} ${progressBar(scene.progress)} ${where}`]);
  }
  return lines;
}

export function finishedLine(scene: WatchSnapshot['finished'][number]): string {
  return `scene ${scene.index}: ${scene.status}${scene.provider ? ` on ${scene.provider}` : ''}${scene.continuity ? ` (${scene.continuity})` : ''}, ${scene.takes} take(s), ${usd(scene.costUsd)}${scene.reason ? `: ${scene.reason}` : ''}`;
}

export function endLine(s: WatchSnapshot): string {
  const uncertain = s.uncertainSubmissions
    ? ` (+ up to ${usd(s.uncertainSubmissions.usd)} for ${s.uncertainSubmissions.count} uncertain submission(s))`
    : '';
  return `${s.id} ended ${s.status}${s.cancelled ? ` (${s.cancelled.reason})` : ''}: ${s.scenesDone}/${s.scenesTotal} scenes, ${usd(s.costUsd)}${uncertain}${s.error ? `, error: ${s.error}` : ''}${s.manifestPath ? `, manifest: ${s.manifestPath}` : ''}`;
}

/** Statuses a waited series counts as done (the same as `start --wait`). */
export const endedWell = (status: string) => status === 'completed' || status === 'completed_with_rejections';

export interface WatchOptions {
  intervalMs: number;
  json: boolean;
  /** Redraw in place (stdout is a terminal); else print changed lines. */
  tty: boolean;
  write: (text: string) => void;
  /** Terminal width, to keep redrawn lines from wrapping. */
  columns?: number;
  /** The series' review page, printed once above the live view (not with --json) when the series is found. */
  reviewUrl?: string;
}

/** Watches until the series ends; returns its final status. */
export async function watchSeries(client: Client, id: string, options: WatchOptions): Promise<string> {
  const printer = options.json ? jsonPrinter(options) : options.tty ? ttyPrinter(options) : plainPrinter(options);
  let unanswered = '';
  let linked = options.json || !options.reviewUrl;
  for (;;) {
    const snapshot = await snapshotOf(client, id);
    if (!linked) options.write(`review: ${options.reviewUrl}\n`);
    linked = true;
    if ('unanswered' in snapshot) {
      // Said once per distinct reason: a new series answers within a moment, a lasting reason needs a look.
      if (snapshot.unanswered !== unanswered) {
        options.write(
          options.json
            ? `${JSON.stringify({ id, unanswered: snapshot.unanswered })}\n`
            : `${id}: no status yet (${snapshot.unanswered})\n`,
        );
      }
      unanswered = snapshot.unanswered;
    } else {
      unanswered = '';
      printer(snapshot);
      if (snapshot.ended) return snapshot.status;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}

type Printer = (s: WatchSnapshot) => void;

function jsonPrinter({ write }: WatchOptions): Printer {
  let last = '';
  return (s) => {
    const line = JSON.stringify(s);
    if (line !== last) write(`${line}\n`);
    last = line;
  };
}

/** Finished scenes are printed once (again if a retake changes them); the caller decides how live lines appear. */
function finishedTracker() {
  const seen = new Map<number, string>();
  return (s: WatchSnapshot) =>
    s.finished.flatMap((scene) => {
      const line = finishedLine(scene);
      if (seen.get(scene.index) === line) return [];
      seen.set(scene.index, line);
      return [line];
    });
}

function plainPrinter({ write }: WatchOptions): Printer {
  const last = new Map<string, string>();
  const newlyFinished = finishedTracker();
  return (s) => {
    const out = newlyFinished(s);
    if (!s.ended) {
      for (const [key, line] of liveLines(s)) {
        if (last.get(key) !== line) out.push(line.trim());
        last.set(key, line);
      }
    } else out.push(endLine(s));
    if (out.length) write(`${out.join('\n')}\n`);
  };
}

function ttyPrinter({ write, columns }: WatchOptions): Printer {
  let drawn: string[] = [];
  const newlyFinished = finishedTracker();
  const fit = (line: string) => (columns && line.length > columns ? `${line.slice(0, columns - 1)}…` : line);
  return (s) => {
    const events = newlyFinished(s);
    const live = s.ended ? [endLine(s)] : liveLines(s).map(([, line]) => fit(line));
    if (!events.length && live.join('\n') === drawn.join('\n')) return;
    // Up over the last frame and clear it; finished scenes stay above, the live frame below them.
    const erase = drawn.length ? `\x1b[${drawn.length}A\x1b[0J` : '';
    write(`${erase}${[...events, ...live].join('\n')}\n`);
    drawn = s.ended ? [] : live;
  };
}
