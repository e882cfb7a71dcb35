import { z } from 'zod';
import { seriesIdOf } from '../../workflows/ids';
import { recordedTake, seriesTakes } from '../series/takes';
import { BadRequestError, NotFoundError } from './errors';
import { ID_PARAM, route, type Route } from './route';
import { takeFile, videoAnswer } from './take-video';

/** Reading what a series made: every take of every scene, and a take's video. */

const takeSchema = z.object({
  take: z.number().int(),
  provider: z.string().optional().describe('Unset only for a take in flight that has not been routed yet.'),
  jobId: z.string().optional(),
  outcome: z
    .enum(['completed', 'rejected', 'unavailable', 'failed', 'in_flight'])
    .describe('in_flight: the take runs now and has no outcome yet.'),
  costUsd: z.number().optional(),
  reason: z.string().optional(),
  assetPath: z.string().optional(),
  sha256: z.string().optional().describe('Set on a take with a stored video: GET its .../video.'),
  review: z.object({ verdict: z.enum(['approve', 'reject']), note: z.string().optional() }).optional(),
  uncertain: z
    .object({ code: z.enum(['answer_lost', 'heuristic_match']), message: z.string(), usd: z.number() })
    .optional()
    .describe('The submit may have been billed without a job (or twice): usd may have been paid beyond costUsd.'),
  phase: z.string().optional().describe('A take in flight: where it is (submitting, generating, storing, ...).'),
  progress: z.number().optional().describe("A take in flight: the upstream's progress, 0-100."),
});

const seriesTakesSchema = z.object({
  id: z.string(),
  scenes: z.array(
    z.object({
      id: z.string().describe('The series.'),
      index: z.number().int(),
      sceneId: z.string().optional().describe("The scene's id from the spec, when it has one."),
      status: z.string().describe('running, or how the scene ended: completed, rejected, failed, cancelled.'),
      takes: z.array(takeSchema),
      continuityByCharacter: z
        .record(z.string(), z.enum(['kept', 'referenced', 'degraded']))
        .optional()
        .describe("Library characters: how the scene's delivered take held each one."),
    }),
  ),
});

/** A positive whole number from the path, or a 400 naming the segment. */
function pathNumber(value: string, field: 'index' | 'take'): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    const message = `must be a whole number from 1, got ${JSON.stringify(value)}`;
    throw new BadRequestError(
      `${field}: ${message}; e.g. GET /series/harbor-tales/scenes/1/takes/1/video (GET /series/{id}/takes lists them)`,
      [{ field, message }],
    );
  }
  return Number(value);
}

export const takeRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/series/{id}/takes',
    operationId: 'getTakes',
    summary: 'Every take of every scene that has started, the one in flight included',
    description:
      'What `sora-series takes` shows for one scene, for all of them: outcome, provider, job, cost, review; a take with a stored video has a `sha256`.',
    responses: { 200: { description: 'The takes per scene.', schema: seriesTakesSchema } },
    errors: [404, 409],
    handle: async (ctx, req) => ({
      status: 200,
      body: await seriesTakes(ctx.client, seriesIdOf(req.params[ID_PARAM])),
    }),
  }),
  route({
    method: 'GET',
    path: '/series/{id}/scenes/{index}/takes/{take}/video',
    operationId: 'getTakeVideo',
    summary: "A take's stored video (MP4), whole or a byte range",
    description:
      "Only the file the series' own record of that take names, read from the gateway's data directory (SORA_SERIES_DATA_DIR, shared with the workers); no path is taken from the request.",
    parameters: [
      {
        name: 'Range',
        in: 'header',
        description:
          'One byte range, `bytes=0-1023`, `bytes=1024-` or `bytes=-1024`: answered 206 (players seek with it).',
      },
    ],
    responses: {
      200: { description: 'The whole video.', media: ['video/mp4'], headers: { 'Accept-Ranges': 'bytes' } },
      206: {
        description: 'The range asked for.',
        media: ['video/mp4'],
        headers: { 'Content-Range': 'bytes <first>-<last>/<size>' },
      },
    },
    errors: [400, 404, 409, 416],
    handle: async (ctx, req) => {
      const id = seriesIdOf(req.params[ID_PARAM]);
      const index = pathNumber(req.params.index, 'index');
      const number = pathNumber(req.params.take, 'take');
      const label = `take ${number} of scene ${index} of ${id}`;
      const take = await recordedTake(ctx.client, id, index, number);
      if (!take)
        throw new NotFoundError(
          `${id} has no finished take ${number} of scene ${index}; GET /series/{id}/takes lists them`,
        );
      const file = await takeFile(ctx.dataDir, label, take);
      const range = req.headers.range;
      return videoAnswer(file, take.sha256!, Array.isArray(range) ? range[0] : range);
    },
  }),
];
