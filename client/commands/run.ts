import type { Client } from '@temporalio/client';
import { startSeries, waitForSeries, type SeriesReport } from '../series/series-client';
import type { SeriesInput } from '../../workflows/types';
import { continuityLabel } from '../series/continuity';

export interface RunOptions {
  /** A validated series (validateSpecFile): nothing reaches Temporal before the spec is checked. */
  input: SeriesInput;
  id?: string;
  wait: boolean;
  taskQueue: string;
  /** Human progress lines while waiting; off for --json. */
  progress?: (line: string) => void;
  /** The gateway's URL when known: the series' memo links its review page. */
  gatewayUrl?: string;
}

/** Start a validated series and optionally wait for it, with progress. */
export async function runSeries(
  client: Client,
  options: RunOptions,
): Promise<{ workflowId: string; report?: SeriesReport }> {
  const handle = await startSeries(client, options.input, {
    taskQueue: options.taskQueue,
    workflowId: options.id,
    gatewayUrl: options.gatewayUrl,
  });
  if (!options.wait) return { workflowId: handle.workflowId };
  return {
    workflowId: handle.workflowId,
    report: await waitForSeries(client, handle.workflowId, { onProgress: options.progress }),
  };
}

/** `3`, or `3 "harbor-dawn"` for a scene the spec gave an id. */
export const sceneLabel = (scene: { index: number; id?: string }): string =>
  scene.id !== undefined ? `${scene.index} ${JSON.stringify(scene.id)}` : String(scene.index);

/** A possible double payment, said in full: how many, how much more, and where to look. */
export function uncertainLine({ count, usd }: { count: number; usd: number }): string {
  return `uncertain submissions: ${count}, up to $${usd.toFixed(2)} more may have been billed (answers lost on contracts without an idempotency key; sora-series takes shows which)`;
}

export function formatReport(report: SeriesReport): string {
  const lines = [`series ${report.id}: ${report.status}, $${report.costUsd.toFixed(2)}`];
  if (report.uncertainSubmissions?.count) lines.push(uncertainLine(report.uncertainSubmissions));
  if (report.scenesTotal !== undefined) lines.push(`scenes: ${report.scenesDone}/${report.scenesTotal} done`);
  for (const s of report.scenes) {
    const uncertain = s.uncertainSubmissions ? ` [${s.uncertainSubmissions.count} uncertain submission(s)]` : '';
    lines.push(
      `  scene ${sceneLabel(s)}: ${s.status}${s.provider ? ` on ${s.provider}` : ''}${continuityLabel(s) ? ` (${continuityLabel(s)})` : ''} $${s.costUsd.toFixed(2)}${uncertain}${s.assetPath ? ` ${s.assetPath}` : ''}${s.reason ? ` - ${s.reason}` : ''}`,
    );
  }
  if (report.error) lines.push(`error: ${report.error}`);
  if (report.episode) lines.push(`episode: ${report.episode.path}`);
  if (report.manifestPath) lines.push(`manifest: ${report.manifestPath}`);
  return lines.join('\n');
}
