import { z } from 'zod';
import { seriesIdOf } from '../../workflows/ids';
import { seriesReport, startSeries } from '../series/series-client';
import { MAX_SPEC_FILE_BYTES } from '../spec/load-spec';
import { validateSpec } from '../spec/validate';
import { ID_PARAM, route, type GatewayContext } from './route';
import * as s from './schemas';

/** Bodies that carry a spec may be as large as a spec file. */
export const SPEC_BODY_BYTES = MAX_SPEC_FILE_BYTES;

/** The spec of a request, checked exactly as `sora-series start` checks a file (the budget check on request). */
export function validatedInput(spec: unknown, ctx: GatewayContext, options: { budget: boolean }) {
  return validateSpec(spec, { source: 'in the request body', profiles: ctx.profiles, checkBudget: options.budget })
    .input;
}

/** Starting a series and reading it. */
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
];
