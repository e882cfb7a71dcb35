import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import type { TemporalSettings } from '../../common/temporal/settings';
import type { BudgetView, NewScene, RetryRequest, ReviewRequest } from '../../workflows/messages';
import type { RoutingPolicy } from '../../workflows/types';
import { resolveSeriesId } from './series-id';
import type { seriesSpecSchema } from '../spec/spec-schema';
import { validateSpec, validateSpecFile, type ValidatedSpec, type ValidateOptions } from '../spec/validate';
import { knownGatewayUrl } from '../gateway/review-link';
import { connectClient } from './connect';
import { cutEpisode, type CutEpisode } from './episode';
import { DEFAULT_LIST_LIMIT, listSeries, seriesQuery, type ListFilter, type SeriesRow } from './list';
import { seriesReport, startSeries, waitForSeries, type SeriesReport, type WaitOptions } from './series-client';
import * as steering from './steering';

/**
 * The library scripts and services import (`import { connect } from 'sora-series'`): the same
 * modules the CLI runs, behind one object. Every method checks what the CLI command of the same
 * job checks, with the same named errors.
 */

/** A spec as an object: what a spec file holds, before defaults (`sora-series schema` prints its JSON Schema). */
export type SeriesSpecDocument = z.input<typeof seriesSpecSchema>;

/** A spec object, or the path of a YAML or JSON spec file. */
export type SpecSource = SeriesSpecDocument | string;

export interface ConnectOptions {
  /** Where the Temporal settings, codec keys, provider config and URL policy are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Settings that win over the environment's (address, namespace, taskQueue, tls, apiKey). */
  temporal?: Partial<TemporalSettings>;
}

export interface SeriesClientOptions {
  /** The task queue the workers poll (SORA_SERIES_TASK_QUEUE, default `sora-series`). */
  taskQueue: string;
  /** As in ConnectOptions; validation reads the provider config and URL policy from it. */
  env?: NodeJS.ProcessEnv;
  /** Closes what the client owns; connect() passes its connection's. */
  close?: () => Promise<void>;
  /** The gateway's URL as browsers reach it: started series link their review page in the memo (connect(): SORA_SERIES_GATEWAY_URL). */
  gatewayUrl?: string;
}

export interface StartOptions {
  /** A workflow id instead of `series/<name>`. */
  id?: string;
  /** Start even when the planned cost is above `budgetUsd`: the series pauses when its budget runs out (`--allow-budget-pause`). */
  allowBudgetPause?: boolean;
}

export interface StartedSeries extends ValidatedSpec {
  /** The workflow id: give it to status, wait and the steering methods. */
  id: string;
}

export interface ListOptions extends ListFilter {
  /** At most this many rows (default 200); `more` says there were more. */
  limit?: number;
}

/**
 * A series id is its name (`harbor-tales`) or its workflow id (`series/harbor-tales`), wherever one
 * is asked. Every method answers with a promise, refusals included.
 */
export class SeriesClient {
  constructor(
    /** The Temporal client underneath, for what this API does not cover. */
    readonly temporal: Client,
    private readonly options: SeriesClientOptions,
  ) {}

  /** Validates as `sora-series start` does (a budget below the planned cost is refused unless allowed), then starts the series. */
  async start(spec: SpecSource, options: StartOptions = {}): Promise<StartedSeries> {
    const validated = await validate(spec, { env: this.options.env, checkBudget: !options.allowBudgetPause });
    const handle = await startSeries(this.temporal, validated.input, {
      taskQueue: this.options.taskQueue,
      workflowId: options.id,
      gatewayUrl: this.options.gatewayUrl,
    });
    return { id: handle.workflowId, ...validated };
  }

  /** What `sora-series status --json` prints: live status of a running series, or the result of a finished one. */
  async status(id: string): Promise<SeriesReport> {
    return seriesReport(this.temporal, resolveSeriesId(id));
  }

  /** Resolves when the series ends, however it ends (check `status`), with its report. */
  async wait(id: string, options: WaitOptions = {}): Promise<SeriesReport> {
    return waitForSeries(this.temporal, resolveSeriesId(id), options);
  }

  /** Series from the visibility query `sora-series list` runs. */
  async list(options: ListOptions = {}): Promise<{ rows: SeriesRow[]; more: boolean }> {
    const { limit = DEFAULT_LIST_LIMIT, ...filter } = options;
    return listSeries(this.temporal, seriesQuery(filter), limit);
  }

  /** No new scenes or takes start until resumed; running jobs go on. */
  async pause(id: string, reason?: string): Promise<void> {
    return steering.pauseSeries(this.temporal, resolveSeriesId(id), reason);
  }

  async resume(id: string): Promise<void> {
    return steering.resumeSeries(this.temporal, resolveSeriesId(id));
  }

  /** Graceful: nothing new is submitted; running jobs finish, are stored and paid; the series ends `cancelled`. */
  async cancel(id: string, reason?: string): Promise<void> {
    return steering.cancelSeries(this.temporal, resolveSeriesId(id), reason);
  }

  /** Validated by the series: a bad scene refuses the batch (MessageRefusedError naming `scenes[i].field`). */
  async addScenes(id: string, scenes: NewScene[]): Promise<{ indexes: number[] }> {
    return steering.addScenes(this.temporal, resolveSeriesId(id), scenes);
  }

  /** A new take of a finished scene; earlier takes are kept. */
  async retryScene(id: string, request: RetryRequest): Promise<{ index: number; queued: true }> {
    return steering.retryScene(this.temporal, resolveSeriesId(id), request);
  }

  /** Approves or rejects a completed take; the approved take is the one the scene delivers. */
  async reviewTake(
    id: string,
    request: ReviewRequest,
  ): Promise<{ index: number; take: number; verdict: ReviewRequest['verdict'] }> {
    return steering.reviewTake(this.temporal, resolveSeriesId(id), request);
  }

  /** Routing for scenes not yet started; answers with the previous policy. */
  async setRouting(id: string, routing: RoutingPolicy): Promise<{ routing: RoutingPolicy; previous: RoutingPolicy }> {
    return steering.setRouting(this.temporal, resolveSeriesId(id), routing);
  }

  /** Must be above the current budget; a series paused by its budget goes on. */
  async raiseBudget(id: string, budgetUsd: number): Promise<BudgetView> {
    return steering.raiseBudget(this.temporal, resolveSeriesId(id), budgetUsd);
  }

  /**
   * The episode of the series' chosen takes as they stand (running or finished): one MP4, a contact
   * sheet and a poster per scene, made once per set of takes (the series cuts its own as it ends).
   * NothingToCutError while no scene has a completed take, EpisodeCutFailedError when the cut fails.
   */
  async cut(id: string): Promise<CutEpisode> {
    return cutEpisode(this.temporal, resolveSeriesId(id));
  }

  /** Closes the connection connect() opened; a client built on your own Temporal client leaves it open. */
  async close(): Promise<void> {
    await this.options.close?.();
  }
}

/**
 * Checks a spec as `sora-series validate` does, without Temporal: the workflow input and the cost
 * estimate, or a SpecError naming every field and its fix. `checkBudget` refuses a budget below
 * the planned cost, as `start` does.
 */
export async function validate(
  spec: SpecSource,
  options: Pick<ValidateOptions, 'env' | 'checkBudget'> = {},
): Promise<ValidatedSpec> {
  return typeof spec === 'string' ? validateSpecFile(spec, options) : validateSpec(spec, options);
}

/** A client from the environment, as the CLI connects: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS or API key, codec keys. */
export async function connect(options: ConnectOptions = {}): Promise<SeriesClient> {
  const env = options.env ?? process.env;
  const { client, settings, close } = await connectClient(options.temporal, env);
  let gatewayUrl: string | undefined;
  try {
    gatewayUrl = knownGatewayUrl(env, settings.address);
  } catch (err) {
    await close();
    throw err;
  }
  return new SeriesClient(client, { taskQueue: settings.taskQueue, env, close, gatewayUrl });
}
