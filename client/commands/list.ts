import type { SeriesRow } from '../series/list';

/** What `sora-series list` prints (the query is client/series/list.ts). */

export function formatTable(rows: SeriesRow[]): string {
  const header = ['ID', 'STATUS', 'DONE', 'COST', 'CHARACTER', 'PROVIDERS', 'STARTED'];
  const cells = rows.map((r) => [
    r.id,
    r.status,
    r.scenesTotal === undefined ? '-' : `${r.scenesDone ?? 0}/${r.scenesTotal}`,
    r.costUsd === undefined ? '-' : `$${r.costUsd.toFixed(2)}`,
    r.character ?? '-',
    r.providersUsed.join(',') || '-',
    r.startTime.replace(/\.\d+Z$/, 'Z'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  return [header, ...cells]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
