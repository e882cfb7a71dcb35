import type { Client } from '@temporalio/client';
import { continuityLabel } from './continuity';
import { seriesStatusQuery, type SeriesStatusView } from '../../workflows/messages';
import type { SeriesStatus } from '../../workflows/types';

/** A progress line and the status view it was read from. */
export type ProgressListener = (line: string, view: SeriesStatusView) => void;

/** A paused series, or one awaiting reviews, still runs: it goes on when resumed or reviewed. */
const OPEN: ReadonlySet<SeriesStatus> = new Set(['running', 'paused', 'awaiting_approval']);

/**
 * Prints one line per scene as it finishes, by asking the series' status query once a second,
 * and a line when the series pauses or waits for reviews. Stops when the series ends or `ended`
 * settles (the caller's wait for the result: a run terminated while paused still answers "paused").
 */
export async function followProgress(
  client: Client,
  workflowId: string,
  print: ProgressListener,
  ended: Promise<unknown>,
): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  let settled = false;
  void ended.finally(() => (settled = true)).catch(() => undefined);
  const reported = new Set<number>();
  let lastRunning = '';
  let lastStatus: SeriesStatus = 'running';
  for (;;) {
    let view: SeriesStatusView;
    try {
      view = await handle.query(seriesStatusQuery);
    } catch {
      // Not answerable yet (first workflow task pending) or closed: the caller reads the result.
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return;
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    for (const scene of [...view.scenes].sort((a, b) => a.index - b.index)) {
      if (reported.has(scene.index)) continue;
      reported.add(scene.index);
      const where = scene.provider
        ? ` on ${scene.provider}${continuityLabel(scene) ? ` (continuity ${continuityLabel(scene)})` : ''}`
        : '';
      const why = scene.reason ? `: ${scene.reason}` : '';
      print(
        `scene ${scene.index}: ${scene.status}${where}, ${scene.takes.length} take(s), $${scene.costUsd.toFixed(2)}${why}`,
        view,
      );
    }
    const running = `[${view.scenesDone}/${view.scenesTotal}] $${view.costUsd.toFixed(2)} so far, running scenes ${view.running.sort((a, b) => a - b).join(', ') || '-'}`;
    if (running !== lastRunning && view.status === 'running') print(running, view);
    lastRunning = running;
    if (view.status !== lastStatus && OPEN.has(view.status) && view.status !== 'running') print(holdLine(view), view);
    lastStatus = view.status;
    if (settled || !OPEN.has(view.status)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function holdLine(view: SeriesStatusView): string {
  return view.status === 'paused'
    ? `paused${view.paused ? ` (${view.paused.by}: ${view.paused.reason})` : ''}; running jobs go on`
    : `awaiting approval of scene ${view.awaitingReview.join(', ')}`;
}
