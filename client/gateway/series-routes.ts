import { z } from 'zod';
import { NothingToCutError } from '../../workflows/episode-request';
import { seriesIdOf } from '../../workflows/ids';
import { cutEpisode, EpisodeCutFailedError } from '../series/episode';
import { seriesReport, startSeries } from '../series/series-client';
import { MAX_SPEC_FILE_BYTES } from '../spec/load-spec';
import { validateSpec } from '../spec/validate';
import { ConflictError, UnprocessableError } from './errors';
import { ID_PARAM, route, type GatewayContext } from './route';
import * as s from './schemas';

/** Bodies that carry a spec may be as large as a spec file. */
export const SPEC_BODY_BYTES = MAX_SPEC_FILE_BYTES;

/** The spec of a request, checked exactly as `sora-series start` checks a file (the budget check on request). */
export function validatedInput(spec: unknown, ctx: GatewayContext, options: { budget: boolean }) {
  return validateSpec(spec, { source: 'in the request body', profiles: ctx.profiles, checkBudget: options.budget })
    .input;
}

/** Starting a series, reading it, and cutting its episode. */
export const seriesRoutes = [
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
      const handle = await startSeries(ctx.client, input, {
        taskQueue: ctx.taskQueue,
        workflowId: req.body.id,
        gatewayUrl: ctx.publicUrl,
      });
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
      body: await seriesReport(ctx.client, seriesIdOf(req.params[ID_PARAM])),
    }),
  }),
  route({
    method: 'POST',
    path: '/series/{id}/cut',
    operationId: 'cutEpisode',
    summary: 'Cut the episode: the chosen take of every completed scene joined into one MP4, a contact sheet, posters',
    description:
      'The same as `sora-series cut`, for a running or a finished series: the same takes are cut once (the series cuts its own as it ends), so asking again answers the same files; 409 while no scene has a completed take, 422 when the cut fails (its reason). Answers once the cut is made.',
    body: z.strictObject({}),
    responses: { 200: { description: 'The episode, its contact sheet and posters.', schema: s.episodeCutSchema } },
    errors: [400, 404, 409, 415, 422],
    handle: async (ctx, req) => {
      try {
        return { status: 200, body: await cutEpisode(ctx.client, seriesIdOf(req.params[ID_PARAM])) };
      } catch (err) {
        if (err instanceof NothingToCutError) throw new ConflictError(err.message);
        if (err instanceof EpisodeCutFailedError) throw new UnprocessableError(err.message);
        throw err;
      }
    },
  }),
];
