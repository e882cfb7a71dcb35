import type { IncomingHttpHeaders } from 'node:http';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { ProviderProfile } from '../../workflows/types';
import { seriesIdOf } from '../../workflows/ids';
import { SeriesNotFoundError, seriesReport, startSeries } from '../series/series-client';
import {
  addScenes,
  appendScenes,
  cancelSeries,
  endOfScenes,
  pauseSeries,
  raiseBudget,
  resumeSeries,
  retryScene,
  reviewTake,
  setRouting,
} from '../series/steering';
import { validateSpec } from '../spec/validate';
import { ConflictError, NotFoundError, ServiceUnavailableError } from './errors';
import * as s from './schemas';
import type { WebhookReceiver } from './webhook-receiver';

/**
 * The gateway's routes as data: path template, body and answer schemas, handler. The server
 * matches and validates with it and the OpenAPI description is generated from it, so a route
 * cannot exist undescribed.
 */

export interface GatewayContext {
  client: Client;
  taskQueue: string;
  /** Provider capabilities specs and scenes are checked against (the client's provider config). */
  profiles: ProviderProfile[];
  webhooks: WebhookReceiver;
}

export interface RouteRequest<B> {
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
  body: B;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI path template; `{name}` matches one path segment. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** The JSON body, as described; validated with `check` (default: this). */
  body?: z.ZodType;
  check?: z.ZodType;
  /** An empty body stands for `{}` unless required. */
  bodyRequired?: boolean;
  /** Hand the body over unparsed (webhooks: the signature covers the exact bytes). */
  raw?: boolean;
  maxBodyBytes?: number;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Statuses answered with the Error body. */
  errors: number[];
  /** Answered without the gateway's bearer token (health, the description, signed webhooks). */
  open?: boolean;
  handle(ctx: GatewayContext, req: RouteRequest<unknown>): Promise<Answer>;
}

/** A route with its handler typed by its body schema. */
function route<B extends z.ZodType>(
  def: Omit<Route, 'handle' | 'body'> & {
    body?: B;
    handle(ctx: GatewayContext, req: RouteRequest<z.output<B>>): Promise<Answer>;
  },
): Route {
  return def as Route;
}

/** Spec files may be 4 MB (client/spec/load-spec.ts); the same for bodies that carry a spec. */
const SPEC_BODY_BYTES = 4 * 1024 * 1024;
const MESSAGE_BODY_BYTES = 1024 * 1024;
const WEBHOOK_BODY_BYTES = 64 * 1024;
const HEALTH_DEADLINE_MS = 3000;

/** In a path, `{id}` is the series name (`/series/harbor-tales`) or the whole id URL-encoded (`/series/series%2Fharbor-tales`). */

const idParam = 'id';

/** The spec of a request, checked exactly as `sora-series start` checks a file (the budget check on request). */
function validatedInput(spec: unknown, ctx: GatewayContext, options: { budget: boolean }) {
  return validateSpec(spec, { source: 'in the request body', profiles: ctx.profiles, checkBudget: options.budget })
    .input;
}

/** Temporal answers "not found" for a series that ended too: that one is a 409, not a 404. */
async function explainMissing<T>(ctx: GatewayContext, id: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (!(err instanceof SeriesNotFoundError)) throw err;
    const status = await ctx.client.workflow
      .getHandle(id)
      .describe()
      .then((d) => d.status.name)
      .catch(() => undefined);
    if (status && status !== 'RUNNING')
      throw new ConflictError(`series ${id} has ended (${status.toLowerCase()}); messages go to running series only`);
    throw err;
  }
}

const signalRoute = (
  action: string,
  operationId: string,
  summary: string,
  send: (ctx: GatewayContext, id: string, reason?: string) => Promise<void>,
  withReason: boolean,
) =>
  route({
    method: 'POST',
    path: `/series/{id}/${action}`,
    operationId,
    summary,
    body: withReason ? s.reasonBody : z.strictObject({}),
    responses: { 202: { description: 'Signal delivered to the series.', schema: s.acceptedSchema } },
    errors: [400, 404, 409, 413, 415],
    maxBodyBytes: MESSAGE_BODY_BYTES,
    handle: async (ctx, req) => {
      const id = seriesIdOf(req.params[idParam]);
      const reason = (req.body as { reason?: string }).reason;
      await explainMissing(ctx, id, () => send(ctx, id, reason));
      return { status: 202, body: { id, accepted: action } };
    },
  });

const updateRoute = <B extends z.ZodType>(
  action: string,
  operationId: string,
  summary: string,
  body: B,
  answer: z.ZodType,
  send: (ctx: GatewayContext, id: string, body: z.output<B>) => Promise<unknown>,
) =>
  route({
    method: 'POST',
    path: `/series/{id}/${action}`,
    operationId,
    summary,
    description: "An update the series validates: a refusal is 422 with the series' own words (field and fix).",
    body,
    bodyRequired: true,
    responses: { 200: { description: "The series' answer.", schema: answer } },
    errors: [400, 404, 409, 413, 415, 422],
    maxBodyBytes: MESSAGE_BODY_BYTES,
    handle: async (ctx, req) => {
      const id = seriesIdOf(req.params[idParam]);
      return { status: 200, body: await explainMissing(ctx, id, () => send(ctx, id, req.body)) };
    },
  });

export function gatewayRoutes(openApi: () => unknown): Route[] {
  return [
    route({
      method: 'POST',
      path: '/series',
      operationId: 'startSeries',
      summary: 'Start a series from a spec',
      description:
        'The spec is checked as `sora-series start` checks it; every problem is named (400, `fields`), a planned cost over budgetUsd too unless allowBudgetPause. Starting an id that exists is 409.',
      body: s.startBody,
      check: s.startBody.extend({ spec: z.unknown() }),
      bodyRequired: true,
      maxBodyBytes: SPEC_BODY_BYTES,
      responses: { 201: { description: 'Started.', schema: s.startedSchema } },
      errors: [400, 409, 413, 415],
      handle: async (ctx, req) => {
        const input = validatedInput(req.body.spec, ctx, { budget: !req.body.allowBudgetPause });
        const handle = await startSeries(ctx.client, input, { taskQueue: ctx.taskQueue, workflowId: req.body.id });
        return {
          status: 201,
          body: { id: handle.workflowId },
          headers: { location: `/series/${encodeURIComponent(handle.workflowId)}` },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/series/{id}',
      operationId: 'getSeries',
      summary: 'Status of a running series, or the result of a finished one',
      description: 'The same report as `sora-series status --json`.',
      responses: { 200: { description: 'The report.', schema: s.seriesReportSchema } },
      errors: [404],
      handle: async (ctx, req) => ({
        status: 200,
        body: await seriesReport(ctx.client, seriesIdOf(req.params[idParam])),
      }),
    }),
    updateRoute(
      'scenes',
      'addScenes',
      'Add scenes to a running series (update addScenes)',
      s.addScenesBody,
      s.indexesSchema,
      (ctx, id, body) => addScenes(ctx.client, id, body.scenes),
    ),
    route({
      method: 'POST',
      path: '/series/{id}/scenes:append',
      operationId: 'appendScenes',
      summary: 'Append scenes, starting the series from the spec if it does not exist (signal-with-start appendScenes)',
      description:
        'For services streaming scenes into a named series: the scenes are checked first (400 names each problem); a series started here is a streaming one and waits for more scenes until end-of-scenes.',
      body: s.appendScenesBody,
      check: s.appendScenesBody.extend({ spec: z.unknown() }),
      bodyRequired: true,
      maxBodyBytes: SPEC_BODY_BYTES,
      responses: {
        202: {
          description: 'Scenes signalled (to the running series, or to the one started now).',
          schema: s.appendedSchema,
        },
      },
      errors: [400, 413, 415],
      handle: async (ctx, req) => {
        // Appended scenes are not in the spec, so its estimate says nothing about the budget.
        const input = validatedInput(req.body.spec, ctx, { budget: false });
        const started = await appendScenes(ctx.client, {
          input,
          scenes: req.body.scenes,
          taskQueue: ctx.taskQueue,
          workflowId: seriesIdOf(req.params[idParam]),
          profiles: ctx.profiles,
        });
        return { status: 202, body: { id: started.workflowId, runId: started.runId } };
      },
    }),
    signalRoute(
      'pause',
      'pauseSeries',
      'Pause: no new scenes or takes start; running jobs go on (signal pause)',
      (ctx, id, reason) => pauseSeries(ctx.client, id, reason),
      true,
    ),
    signalRoute(
      'resume',
      'resumeSeries',
      'Resume a paused series (signal resume)',
      (ctx, id) => resumeSeries(ctx.client, id),
      false,
    ),
    signalRoute(
      'cancel',
      'cancelSeries',
      'Cancel gracefully: no new submissions, running jobs finish and are paid (signal cancel)',
      (ctx, id, reason) => cancelSeries(ctx.client, id, reason),
      true,
    ),
    signalRoute(
      'end-of-scenes',
      'endOfScenes',
      'A streaming series gets no more scenes (signal endOfScenes)',
      (ctx, id) => endOfScenes(ctx.client, id),
      false,
    ),
    updateRoute(
      'retry',
      'retryScene',
      'Retry a scene as a new take, optionally with a new prompt or provider (update retryScene)',
      s.retryBody,
      s.retriedSchema,
      (ctx, id, body) => retryScene(ctx.client, id, body),
    ),
    updateRoute(
      'review',
      'reviewTake',
      'Approve or reject a completed take (update reviewTake)',
      s.reviewBody,
      s.reviewedSchema,
      (ctx, id, body) => reviewTake(ctx.client, id, body),
    ),
    updateRoute(
      'routing',
      'setRouting',
      'Routing policy for scenes not started yet (update setRouting)',
      s.routingBody,
      s.routingChangedSchema,
      (ctx, id, body) => setRouting(ctx.client, id, body.routing),
    ),
    updateRoute(
      'budget',
      'raiseBudget',
      'Raise the budget; a series paused by its budget goes on (update raiseBudget)',
      s.budgetBody,
      s.budgetSchema,
      (ctx, id, body) => raiseBudget(ctx.client, id, body.budgetUsd),
    ),
    route({
      method: 'POST',
      path: '/webhooks/{provider}',
      operationId: 'receiveWebhook',
      summary: 'Provider webhooks (official contract: video.completed / video.failed), verified per Standard Webhooks',
      description:
        "Signed with the provider's webhook secret (headers webhook-id, webhook-timestamp, webhook-signature); at most 300 s of clock skew. A verified job event signals the running scene waiting on that job; a replayed webhook-id is answered 200 `duplicate` without acting; other event types 200 `ignored`. Nothing happens for an unverified webhook.",
      raw: true,
      open: true,
      bodyRequired: true,
      maxBodyBytes: WEBHOOK_BODY_BYTES,
      body: z.object({
        id: z.string(),
        object: z.literal('event'),
        created_at: z.number().int(),
        type: z.string(),
        data: z.object({ id: z.string() }),
      }),
      responses: {
        200: {
          description: 'Replayed (`duplicate`) or not a job event (`ignored`): nothing done.',
          schema: s.webhookAnswerSchema,
        },
        202: {
          description:
            'Accepted: the waiting scene was signalled (`signalled`), or none waits on that job (`no_waiting_scene`; polling notices it).',
          schema: s.webhookAnswerSchema,
        },
      },
      errors: [400, 401, 404, 413, 415, 503],
      handle: async (ctx, req) => {
        const outcome = await ctx.webhooks.receive(req.params.provider, req.headers, req.raw);
        return {
          status: outcome.status === 'signalled' || outcome.status === 'no_waiting_scene' ? 202 : 200,
          body: outcome,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openApi',
      summary: 'This description (OpenAPI 3.1)',
      open: true,
      responses: { 200: { description: 'The OpenAPI document.', schema: z.object({ openapi: z.string() }).loose() } },
      errors: [],
      handle: async () => ({ status: 200, body: openApi() }),
    }),
    route({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness, and whether Temporal answers',
      open: true,
      responses: {
        200: {
          description: 'Up, Temporal answers.',
          schema: z.object({ status: z.literal('ok'), temporal: z.literal('up') }),
        },
      },
      errors: [503],
      handle: async (ctx) => {
        try {
          await ctx.client.connection.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () =>
            ctx.client.workflowService.getSystemInfo({}),
          );
        } catch (err) {
          throw new ServiceUnavailableError(
            `Temporal does not answer (${(err as Error).message}); check TEMPORAL_ADDRESS and the server`,
          );
        }
        return { status: 200, body: { status: 'ok', temporal: 'up' } };
      },
    }),
  ];
}

/** Matches a path against a route's template; params URL-decoded (a bad escape is no match). */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped.replace(/\{(\w+)\}/g, (_m, name: string) => (names.push(name), '([^/]+)'))}$`);
  const match = pattern.exec(path);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  try {
    names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1])));
  } catch {
    throw new NotFoundError(`malformed escape in ${path}`);
  }
  return params;
}
