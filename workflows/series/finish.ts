import {
  allHandlersFinished,
  CancellationScope,
  condition,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { local } from '../activities';
import { SeriesStatusKey } from '../search-attributes';
import type { SceneResult, SeriesInput, SeriesResult, SeriesStatus } from '../types';
import { cutAtEnd } from './episode';
import type { CastRefs } from './cast';
import type { SeriesRun } from './state';

/**
 * The end of a series, once its running scenes have settled: its status, the episode (episode.ts),
 * the manifest (every scene's takes, asset, sha256, provider, cost; the episode, contact sheet and
 * posters), and the search attribute. Not cancellable: a cancelled series still writes its manifest
 * (and cuts what it has). `cancellation` (Temporal cancelled the series) is rethrown at the end.
 */
export function finishSeries(run: SeriesRun, cancellation: unknown, cast?: CastRefs): Promise<SeriesResult> {
  return CancellationScope.nonCancellable(async () => {
    const { state } = run;
    await condition(() => run.running.size === 0);
    const ordered = [...state.results].sort((a, b) => a.index - b.index);
    const ended = (run.ended = endStatus(ordered, run.series, !!state.cancelled));
    const cut = await cutAtEnd(workflowInfo().workflowId, ordered, ended);
    const { sourceClip, ...character } = state.passport;
    const summary = {
      name: run.series.name,
      status: ended,
      costUsd: run.costUsd(),
      character: {
        ...character,
        ...(sourceClip ? { sourceClip: { url: sourceClip.url, sha256: sourceClip.sha256 } } : {}),
      },
      scenes: ordered,
      ...(state.cast ? { cast: castSummary(run) } : {}),
      ...(state.cancelled ? { cancelled: state.cancelled } : {}),
      ...(cut && 'files' in cut ? cut.files : {}),
      ...(cut && 'error' in cut ? { episodeError: cut.error } : {}),
    };
    const manifestPath = (run.manifestPath = await local.writeManifest(summary));
    upsertSearchAttributes([{ key: SeriesStatusKey, value: ended }]);
    if (run.series.cast) await cast?.leave();
    await condition(allHandlersFinished);
    if (cancellation) throw cancellation; // shown as Cancelled in the Web UI; the manifest is written
    return { ...summary, manifestPath };
  });
}

/** The manifest's cast: each library character's handles as this series used them, and what making them cost it. */
function castSummary(run: SeriesRun): NonNullable<SeriesResult['cast']> {
  return Object.values(run.state.cast ?? {}).map(({ sourceClip, stills: _stills, ...passport }) => ({
    ...passport,
    ...(sourceClip ? { sourceClip: { url: sourceClip.url, sha256: sourceClip.sha256 } } : {}),
    costUsd: Object.entries(run.state.castCostsUsd ?? {})
      .filter(([key]) => key.startsWith(`${passport.name}/`))
      .reduce((sum, [, usd]) => sum + usd, 0),
  }));
}

function endStatus(scenes: SceneResult[], series: SeriesInput, cancelled: boolean): SeriesStatus {
  if (cancelled) return 'cancelled';
  const rejected = scenes.some((s) => s.status === 'rejected');
  if (scenes.some((s) => s.status === 'failed') || (rejected && series.onRejection === 'fail')) return 'failed';
  return rejected ? 'completed_with_rejections' : 'completed';
}
