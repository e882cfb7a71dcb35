import { z } from 'zod';
import { ServiceUnavailableError } from './errors';
import { route, type Route } from './route';

const HEALTH_DEADLINE_MS = 3000;

/** The gateway's own routes, open to all: its description and its health. */
export function serviceRoutes(openApi: () => unknown): Route[] {
  return [
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
