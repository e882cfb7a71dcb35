import type { Client } from '@temporalio/client';
import { seriesStatusQuery, type SeriesStatusView } from '../../workflows/messages';

/** A progress line and the status view it was read from. */
export type ProgressListener = (line: string, view: SeriesStatusView) => void;

/**
 * Prints one line per scene as it finishes, by asking the series' status query once a
 * second. Stops when the series is no longer running.
 */
export async function followProgress(client: Client, workflowId: string, print: ProgressListener): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const reported = new Set<number>();
  let lastRunning = '';
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
        ? ` on ${scene.provider}${scene.continuity ? ` (continuity ${scene.continuity})` : ''}`
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
    if (view.status !== 'running') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
