import { z } from 'zod';
import { seriesIdOf } from '../../workflows/ids';
import { SeriesNotFoundError } from '../series/series-client';
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
import { ConflictError } from './errors';
import { ID_PARAM, route, type Answer, type GatewayContext, type Route } from './route';
import * as s from './schemas';
import { SPEC_BODY_BYTES, validatedInput } from './series-routes';

/** The messages a series takes over HTTP: signals answer 202 once delivered, updates with the series' answer. */

const MESSAGE_BODY_BYTES = 1024 * 1024;

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

/** A POST to `/series/{id}/<action>` that sends one message to that running series. */
function messageRoute<B extends z.ZodType>(
  action: string,
  def: Pick<Route, 'operationId' | 'summary' | 'description' | 'bodyRequired' | 'responses' | 'errors'> & {
    body: B;
    send(ctx: GatewayContext, id: string, body: z.output<B>): Promise<Answer>;
  },
): Route {
  const { send, ...described } = def;
  return route({
    ...described,
    method: 'POST',
    path: `/series/{id}/${action}`,
    maxBodyBytes: MESSAGE_BODY_BYTES,
    handle: (ctx, req) => {
      const id = seriesIdOf(req.params[ID_PARAM]);
      return explainMissing(ctx, id, () => send(ctx, id, req.body));
    },
  });
}

const signalRoute = (
  action: string,
  operationId: string,
  summary: string,
  send: (ctx: GatewayContext, id: string, reason?: string) => Promise<void>,
  withReason: boolean,
) =>
  messageRoute(action, {
    operationId,
    summary,
    body: withReason ? s.reasonBody : z.strictObject({}),
    responses: { 202: { description: 'Signal delivered to the series.', schema: s.acceptedSchema } },
    errors: [400, 404, 409, 413, 415],
    send: async (ctx, id, body) => {
      await send(ctx, id, (body as { reason?: string }).reason);
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
  messageRoute(action, {
    operationId,
    summary,
    description: "An update the series validates: a refusal is 422 with the series' own words (field and fix).",
    body,
    bodyRequired: true,
    responses: { 200: { description: "The series' answer.", schema: answer } },
    errors: [400, 404, 409, 413, 415, 422],
    send: async (ctx, id, request) => ({ status: 200, body: await send(ctx, id, request) }),
  });

export const messageRoutes: Route[] = [
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
        workflowId: seriesIdOf(req.params[ID_PARAM]),
        profiles: ctx.profiles,
        gatewayUrl: ctx.publicUrl,
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
];
