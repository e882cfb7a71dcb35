import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import {
  Characters,
  ProvidersUsed,
  ScenesDone,
  ScenesTotal,
  SeriesCharacter,
  SeriesCostUsd,
  SeriesStatusKey,
} from '../../workflows/search-attributes';
import type { SeriesStatus } from '../../workflows/types';

/** Series found by a visibility query over their search attributes (`sora-series list`, the library's list). */

/** A filter that cannot make a query; `field` is the filter's key (the CLI names it as its flag). */
export class ListFilterError extends Error {
  constructor(
    readonly field: 'status' | 'character' | 'limit',
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ListFilterError';
  }
}

export const SERIES_STATUSES: readonly SeriesStatus[] = [
  'running',
  'paused',
  'awaiting_approval',
  'completed',
  'completed_with_rejections',
  'cancelled',
  'failed',
];

export interface ListFilter {
  status?: string;
  character?: string;
}

/** A string literal in Temporal's list filter (SQL-like): quotes and backslashes escaped. */
export const queryLiteral = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The SeriesStatus attribute is what the workflow last wrote; a run that failed, was terminated
 * or timed out never wrote its end, so the execution status decides for those.
 */
const STATUS_CLAUSES: Partial<Record<SeriesStatus, string>> = {
  running: `${SeriesStatusKey.name} = 'running' AND ExecutionStatus = 'Running'`,
  failed: `(${SeriesStatusKey.name} = 'failed' OR ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut'))`,
  cancelled: `(${SeriesStatusKey.name} = 'cancelled' OR ExecutionStatus = 'Canceled')`,
};

export function seriesQuery(filter: ListFilter): string {
  // Each continue-as-new leaves a closed run behind: list a series once, by its latest run.
  const clauses = [`WorkflowType = 'seriesWorkflow'`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (filter.status !== undefined) {
    if (!(SERIES_STATUSES as readonly string[]).includes(filter.status)) {
      throw new ListFilterError('status', `must be one of ${SERIES_STATUSES.join(', ')}, got "${filter.status}"`);
    }
    clauses.push(
      STATUS_CLAUSES[filter.status as SeriesStatus] ?? `${SeriesStatusKey.name} = ${queryLiteral(filter.status)}`,
    );
  }
  if (filter.character !== undefined) {
    if (!filter.character.trim())
      throw new ListFilterError('character', 'must not be empty; give the character name as in the spec');
    // The one-character form's character, or one of a cast from the library.
    clauses.push(
      `(${SeriesCharacter.name} = ${queryLiteral(filter.character)} OR ${Characters.name} = ${queryLiteral(filter.character)})`,
    );
  }
  return clauses.join(' AND ');
}

export interface SeriesRow {
  id: string;
  status: string;
  scenesDone?: number;
  scenesTotal?: number;
  costUsd?: number;
  character?: string;
  providersUsed: string[];
  startTime: string;
}

function rowOf(info: WorkflowExecutionInfo): SeriesRow {
  const attrs = info.typedSearchAttributes;
  const written = attrs.get(SeriesStatusKey);
  const open =
    written === undefined || written === 'running' || written === 'paused' || written === 'awaiting_approval';
  return {
    id: info.workflowId,
    // A closed run whose attribute still says it runs ended without writing its status: say how it ended.
    status:
      info.status.name !== 'RUNNING' && open
        ? info.status.name.toLowerCase()
        : (written ?? info.status.name.toLowerCase()),
    scenesDone: attrs.get(ScenesDone),
    scenesTotal: attrs.get(ScenesTotal),
    costUsd: attrs.get(SeriesCostUsd),
    character: attrs.get(SeriesCharacter) ?? attrs.get(Characters)?.join(', '),
    providersUsed: attrs.get(ProvidersUsed) ?? [],
    startTime: info.startTime.toISOString(),
  };
}

/** Rows `sora-series list` and `SeriesClient.list` return unless given a limit. */
export const DEFAULT_LIST_LIMIT = 200;

/** Runs a query from seriesQuery; `more` says the limit cut the list. */
export async function listSeries(
  client: Client,
  query: string,
  limit: number,
): Promise<{ rows: SeriesRow[]; more: boolean }> {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new ListFilterError('limit', `must be a whole number from 1, got ${limit}`);
  const rows: SeriesRow[] = [];
  for await (const info of client.workflow.list({ query })) {
    if (rows.length === limit) return { rows, more: true };
    rows.push(rowOf(info));
  }
  return { rows, more: false };
}
