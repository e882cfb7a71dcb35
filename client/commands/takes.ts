import type { SceneTakes } from '../series/takes';
import { continuityLabel } from '../series/continuity';
import { sceneLabel } from './run';

/** `sora-series takes`: every take of one scene (client/series/takes.ts reads them), as text. */

export function formatTakes(s: SceneTakes): string {
  const lines = [
    `${s.id} scene ${sceneLabel({ index: s.index, id: s.sceneId })}: ${s.status}, ${s.takes.length} take(s)${s.continuityByCharacter ? `, continuity ${continuityLabel(s)}` : ''}`,
  ];
  for (const t of s.takes) {
    if (t.outcome === 'in_flight') {
      lines.push(
        `  take ${t.take}: in flight${t.provider ? ` on ${t.provider}` : ''}${t.jobId ? `, job ${t.jobId}` : ''}${t.phase ? `, ${t.phase}` : ''}${t.progress !== undefined ? ` ${t.progress}%` : ''}`,
      );
      continue;
    }
    lines.push(
      `  take ${t.take}: ${t.outcome} on ${t.provider}${t.jobId ? `, job ${t.jobId}` : ''}, $${t.costUsd.toFixed(2)}${t.reason ? ` - ${t.reason}` : ''}`,
    );
    if (t.assetPath) lines.push(`    asset ${t.assetPath}${t.sha256 ? ` sha256 ${t.sha256}` : ''}`);
    if (t.uncertain)
      lines.push(
        `    uncertain submission (${t.uncertain.code}): up to $${t.uncertain.usd.toFixed(2)} more may have been billed - ${t.uncertain.message}`,
      );
    if (t.review) lines.push(`    review: ${t.review.verdict}${t.review.note ? ` - ${t.review.note}` : ''}`);
  }
  return lines.join('\n');
}
