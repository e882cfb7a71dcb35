import { z } from 'zod';
import { route } from './route';
import * as s from './schemas';

const WEBHOOK_BODY_BYTES = 64 * 1024;

/** Provider webhooks: open (the signature is the credential), the exact bytes handed to the receiver. */
export const webhookRoutes = [
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
];
