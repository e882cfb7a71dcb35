import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { seriesStatusQuery, type SeriesStatusView } from '../../workflows/messages';
import {
  Characters,
  ScenesDone,
  ScenesTotal,
  SeriesCharacter,
  SeriesName,
  SeriesStatusKey,
} from '../../workflows/search-attributes';
import { seriesWorkflowId } from '../../workflows/ids';
import { followProgress, type ProgressListener } from './progress';
import type { seriesWorkflow } from '../../workflows/series/workflow';
import type { Continuity, SeriesInput, SeriesResult, SeriesStatus } from '../../workflows/types';
import { uncertainOfScenes, uncertainOfTakes, type UncertainCount } from '../../workflows/uncertain-submissions';
import { reviewPageUrl } from '../gateway/review-link';
import { prepareCast } from './characters';

/** The library other services import: start a series, read its status, wait for it. */

export class SeriesAlreadyRunningError extends Error {
  constructor(readonly workflowId: string) {
    super(
      `series ${workflowId} already exists (running or finished; a series id is used once, so nothing is paid twice); pick another name or --id, or check it with: sora-series status ${workflowId}`,
    );
    this.name = 'SeriesAlreadyRunningError';
  }
}

export class SeriesNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`no series with id ${workflowId}; check the name or id (sora-series list shows the series there are)`);
    this.name = 'SeriesNotFoundError';
  }
}

/** Where and how a series is started. */
export interface SeriesStartOptions {
  taskQueue: string;
  /** Default: series/<input.name>. */
  workflowId?: string;
  /** The gateway's URL, when the starter knows it: the memo then links the series' review page. */
  gatewayUrl?: string;
}

/** How a series is started (plain start and signal-with-start alike): id, queue, what the Web UI shows. */
export function startOptions(input: SeriesInput, options: SeriesStartOptions) {
  const workflowId = options.workflowId ?? seriesWorkflowId(input.name);
  const reviewUrl = options.gatewayUrl && reviewPageUrl(options.gatewayUrl, workflowId);
  return {
    workflowId,
    taskQueue: options.taskQueue,
    // A finished series is never run again under its id: that would pay for every scene twice.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    args: [input] as [SeriesInput],
    // Seen in the Web UI list and searchable; the workflow keeps progress current.
    typedSearchAttributes: [
      { key: SeriesName, value: input.name },
      ...(input.character ? [{ key: SeriesCharacter, value: input.character.name }] : []),
      ...(input.cast ? [{ key: Characters, value: input.cast.map((c) => c.name) }] : []),
      { key: SeriesStatusKey, value: 'running' },
      { key: ScenesTotal, value: input.scenes.length },
      { key: ScenesDone, value: 0 },
    ],
    memo: {
      character: castLabel(input),
      scenes: input.scenes.length,
      routing: input.routing,
      providers: input.providers,
      ...(input.budgetUsd ? { budgetUsd: input.budgetUsd } : {}),
      ...(reviewUrl ? { reviewUrl } : {}),
    },
    // The Web UI renders details as Markdown: there the link is one click away.
    ...(reviewUrl ? { staticDetails: `[Review page](${reviewUrl}): the takes as videos, approve, reject, retry` } : {}),
    staticSummary: `${castLabel(input)}: ${input.streaming ? 'streaming, ' : ''}${input.scenes.length} scenes, ${input.routing} routing over ${input.providers.join(' > ')}${input.budgetUsd ? `, budget $${input.budgetUsd}` : ''}`,
  };
}

/** The series' character, or its cast (`mira, tom`). */
const castLabel = (input: SeriesInput) => input.character?.name ?? (input.cast ?? []).map((c) => c.name).join(', ');

export async function startSeries(
  client: Client,
  input: SeriesInput,
  options: SeriesStartOptions,
): Promise<WorkflowHandle<typeof seriesWorkflow>> {
  // The cast is in the library before the series exists: a refused character starts nothing.
  const start = startOptions(await prepareCast(client, input, options), options);
  try {
    return await client.workflow.start<typeof seriesWorkflow>('seriesWorkflow', start);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new SeriesAlreadyRunningError(start.workflowId);
    throw err;
  }
}

/** What `status --json` and `start --wait --json` print. */
export interface SeriesReport {
  id: string;
  status: SeriesStatus | 'terminated' | 'cancelled' | 'timed_out' | 'continued';
  costUsd: number;
  /**
   * Submits that may have been billed without a job to show for it (contracts without an
   * idempotency key that lost an answer): `usd` may have been paid beyond `costUsd`.
   */
  uncertainSubmissions?: UncertainCount;
  manifestPath?: string;
  /** The episode the series cut as it ended (`sora-series cut` makes one on demand). */
  episode?: { path: string; sha256: string; seconds: number };
  contactSheet?: { path: string; sha256: string };
  scenesTotal?: number;
  scenesDone?: number;
  scenes: Array<{
    index: number;
    /** The scene's id from the spec, when it has one. */
    id?: string;
    status: string;
    provider?: string;
    continuity?: string;
    /** Library characters: how the scene held each one (`kept`, `referenced`, `degraded`). */
    continuityByCharacter?: Record<string, Continuity>;
    assetPath?: string;
    sha256?: string;
    costUsd: number;
    takes: number;
    reason?: string;
    /** Present when one of the scene's takes is an uncertain submission. */
    uncertainSubmissions?: UncertainCount;
  }>;
  error?: string;
}

type ReportSource = Pick<SeriesStatusView, 'status' | 'costUsd' | 'manifestPath' | 'scenes'> &
  Partial<Pick<SeriesStatusView, 'scenesTotal' | 'scenesDone' | 'uncertainSubmissions'>> &
  Pick<SeriesResult, 'episode' | 'contactSheet'>;

function reportOf(id: string, view: ReportSource): SeriesReport {
  return {
    id,
    status: view.status,
    costUsd: view.costUsd,
    // A worker of a release before the count answers without it: the finished scenes' takes tell.
    uncertainSubmissions: view.uncertainSubmissions ?? uncertainOfScenes(view.scenes),
    ...(view.manifestPath ? { manifestPath: view.manifestPath } : {}),
    ...(view.episode
      ? { episode: { path: view.episode.path, sha256: view.episode.sha256, seconds: view.episode.seconds } }
      : {}),
    ...(view.contactSheet ? { contactSheet: { path: view.contactSheet.path, sha256: view.contactSheet.sha256 } } : {}),
    ...(view.scenesTotal !== undefined ? { scenesTotal: view.scenesTotal, scenesDone: view.scenesDone } : {}),
    scenes: [...view.scenes]
      .sort((a, b) => a.index - b.index)
      .map((s) => ({
        index: s.index,
        ...(s.id !== undefined ? { id: s.id } : {}),
        status: s.status,
        provider: s.provider,
        continuity: s.continuity,
        ...(s.continuityByCharacter ? { continuityByCharacter: s.continuityByCharacter } : {}),
        assetPath: s.assetPath,
        sha256: s.sha256,
        costUsd: s.costUsd,
        takes: s.takes.length,
        ...(s.reason ? { reason: s.reason } : {}),
        ...uncertainField(uncertainOfTakes(s.takes)),
      })),
  };
}

const uncertainField = (count: UncertainCount) => (count.count ? { uncertainSubmissions: count } : {});

export function reportOfResult(id: string, result: SeriesResult): SeriesReport {
  return reportOf(id, { ...result, scenesTotal: result.scenes.length, scenesDone: result.scenes.length });
}

/** The series' handle and description; an unknown id is a SeriesNotFoundError. */
export async function describeSeries(client: Client, workflowId: string) {
  const handle = client.workflow.getHandle<typeof seriesWorkflow>(workflowId);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new SeriesNotFoundError(workflowId);
    throw err;
  }
}

/** Live status from the running workflow, or the result of a finished one. */
export async function seriesReport(client: Client, workflowId: string): Promise<SeriesReport> {
  const { handle, description } = await describeSeries(client, workflowId);
  switch (description.status.name) {
    case 'RUNNING':
      return reportOf(workflowId, await handle.query(seriesStatusQuery));
    case 'COMPLETED':
      return reportOfResult(workflowId, await handle.result());
    default: {
      const error = await handle.result().then(
        () => undefined,
        (err: Error) => rootCause(err).message,
      );
      return {
        id: workflowId,
        status:
          description.status.name === 'FAILED'
            ? 'failed'
            : (description.status.name.toLowerCase() as SeriesReport['status']),
        costUsd: 0,
        scenes: [],
        ...(error ? { error } : {}),
      };
    }
  }
}

export interface WaitOptions {
  /** Called with a line per finished scene and per change of the running set, and the status it comes from. */
  onProgress?: ProgressListener;
}

/** Waits until the series ends (however it ends) and returns its report; an unknown id is a SeriesNotFoundError. */
export async function waitForSeries(
  client: Client,
  workflowId: string,
  options: WaitOptions = {},
): Promise<SeriesReport> {
  const { handle } = await describeSeries(client, workflowId);
  const ended = handle.result().catch(() => undefined);
  if (options.onProgress) await followProgress(client, workflowId, options.onProgress, ended);
  await ended;
  return seriesReport(client, workflowId);
}

/** The innermost cause says what went wrong ("character.clip: ..."), not "Activity task failed". */
export function rootCause(err: Error): Error {
  let current = err;
  while (current.cause instanceof Error) current = current.cause;
  return current;
}
