import { z } from 'zod';
import { SERIES_WORKFLOW_ID } from '../../workflows/ids';
import { ROUTING_POLICIES } from '../../workflows/routing';
import { MAX_SCENES_PER_MESSAGE } from '../../workflows/scene-rules';
import {
  newSceneSchema as sceneFields,
  promptSchema,
  providerNameSchema,
  reviewNoteSchema,
} from '../spec/scene-schema';
import { seriesSpecSchema } from '../spec/spec-schema';

/**
 * Bodies the gateway takes and answers, as zod schemas: requests are validated with them and
 * the OpenAPI description is generated from them, so the two cannot drift. The spec itself is
 * checked by parseSpec (client/spec/parse-spec.ts), which names every problem; here it is only described.
 */

/** A workflow id the gateway can address (series/<name>, as `start` gives them). */
export const seriesIdSchema = z
  .string()
  .max(400, 'must be at most 400 characters')
  .regex(
    SERIES_WORKFLOW_ID,
    'must be series/<name>, e.g. series/harbor-tales-2 (the path names a series by its name or its URL-encoded id)',
  )
  .describe('Workflow id of the series; default series/<spec name>.');

export const newSceneSchema = sceneFields.describe("A scene to add; unset fields take the series' defaults.");

const scenesSchema = z
  .array(newSceneSchema)
  .min(1, 'give at least one scene, e.g. [{"prompt": "@character waves"}]')
  .max(MAX_SCENES_PER_MESSAGE, `at most ${MAX_SCENES_PER_MESSAGE} per request; send several`);

export const startBody = z.strictObject({
  // Not .describe()d: that would copy the schema and inline it instead of referencing SeriesSpec.
  spec: seriesSpecSchema,
  id: seriesIdSchema.optional(),
  allowBudgetPause: z
    .boolean()
    .optional()
    .describe(
      'Start even when the planned cost is over budgetUsd: the series pauses when the budget runs out, until raised (as `start --allow-budget-pause`).',
    ),
});
export const addScenesBody = z.strictObject({ scenes: scenesSchema });
export const appendScenesBody = z.strictObject({
  spec: seriesSpecSchema,
  scenes: scenesSchema,
});
export const reasonBody = z.strictObject({ reason: z.string().max(1000).optional() });
export const retryBody = z.strictObject({
  index: z.number().int('must be a whole number').positive('scene indexes start at 1'),
  prompt: promptSchema.optional().describe("A new prompt for the new take; the scene's prompt when unset."),
  provider: providerNameSchema.optional().describe('Pin the new take to this provider; routing decides when unset.'),
});
export const reviewBody = z.strictObject({
  index: z.number().int('must be a whole number').positive('scene indexes start at 1'),
  take: z.number().int('must be a whole number').positive('takes start at 1'),
  verdict: z.enum(['approve', 'reject']),
  note: reviewNoteSchema.optional(),
});
export const routingSchema = z.enum(ROUTING_POLICIES);
export const routingBody = z.strictObject({ routing: routingSchema });
export const budgetBody = z.strictObject({
  budgetUsd: z.number().positive('must be more than 0 (USD)').describe('The new limit in USD.'),
});

// ---- answers ----

export const errorSchema = z.object({
  error: z.object({
    message: z.string().describe('What is wrong and how to fix it.'),
    fields: z
      .array(
        z.object({
          field: z.string().describe('Path in the request body, e.g. spec.scenes[0].prompt.'),
          message: z.string(),
        }),
      )
      .optional(),
  }),
});

export const startedSchema = z.object({ id: z.string().describe('Workflow id of the series.') });
export const acceptedSchema = z.object({ id: z.string(), accepted: z.string().describe('The message sent.') });
export const indexesSchema = z.object({
  indexes: z.array(z.number().int()).describe('Indexes given to the new scenes.'),
});
export const appendedSchema = z.object({
  id: z.string(),
  runId: z.string().describe('The run the scenes went to (new when the series was started by this request).'),
});
export const retriedSchema = z.object({ index: z.number().int(), queued: z.literal(true) });
export const reviewedSchema = z.object({
  index: z.number().int(),
  take: z.number().int(),
  verdict: z.enum(['approve', 'reject']),
});
export const routingChangedSchema = z.object({ routing: routingSchema, previous: routingSchema });
export const budgetSchema = z.object({
  budgetUsd: z.number().optional(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  remainingUsd: z.number().optional(),
  uncertainUsd: z
    .number()
    .optional()
    .describe("Possibly paid by finished scenes' uncertain submissions, counted against the budget."),
});

const uncertainCountSchema = z.object({ count: z.number().int(), usd: z.number() });

export const seriesReportSchema = z.object({
  id: z.string(),
  status: z
    .string()
    .describe(
      'running, paused, awaiting_approval, completed, completed_with_rejections, cancelled, failed (or terminated, timed_out).',
    ),
  costUsd: z.number(),
  uncertainSubmissions: uncertainCountSchema
    .optional()
    .describe(
      'Submits that may have been billed without a job to show for it (answers lost on contracts without an idempotency key): usd may have been paid beyond costUsd.',
    ),
  manifestPath: z.string().optional(),
  episode: z
    .object({ path: z.string(), sha256: z.string(), seconds: z.number() })
    .optional()
    .describe('The episode the series cut as it ended (POST /series/{id}/cut makes one on demand).'),
  contactSheet: z.object({ path: z.string(), sha256: z.string() }).optional(),
  scenesTotal: z.number().int().optional(),
  scenesDone: z.number().int().optional(),
  scenes: z.array(
    z.object({
      index: z.number().int(),
      id: z.string().optional().describe("The scene's id from the spec (scenes[].id), when it has one."),
      status: z.string(),
      provider: z.string().optional(),
      continuity: z.string().optional(),
      continuityByCharacter: z
        .record(z.string(), z.enum(['kept', 'referenced', 'degraded']))
        .optional()
        .describe('Library characters: how the scene held each one.'),
      assetPath: z.string().optional(),
      sha256: z.string().optional(),
      costUsd: z.number(),
      takes: z.number().int(),
      reason: z.string().optional(),
      uncertainSubmissions: uncertainCountSchema.optional().describe("Present when one of the scene's takes is one."),
    }),
  ),
  error: z.string().optional(),
});

const storedSchema = { path: z.string().describe("In the workers' data directory."), sha256: z.string() };
export const episodeCutSchema = z.object({
  id: z.string().describe('The episode workflow that made it: <series id>/episode-<cut key>.'),
  seriesId: z.string(),
  episode: z.object({
    ...storedSchema,
    bytes: z.number().int(),
    seconds: z.number(),
    width: z.number().int(),
    height: z.number().int(),
    joined: z.enum(['concat', 'reencode']).describe("concat: the scenes' streams as they are; reencode: normalised."),
    scenes: z.array(
      z.object({
        index: z.number().int(),
        take: z.number().int(),
        provider: z.string(),
        sha256: z.string(),
        startSeconds: z.number(),
        seconds: z.number(),
      }),
    ),
  }),
  contactSheet: z.object({ ...storedSchema, width: z.number().int(), height: z.number().int() }),
  posters: z.array(z.object({ index: z.number().int(), ...storedSchema })),
});

export const webhookAnswerSchema = z.object({
  status: z.enum(['signalled', 'no_waiting_scene', 'duplicate', 'ignored']),
  scenes: z.array(z.string()).optional().describe('Workflow ids of the scenes told.'),
});

/** What a webhook body must hold once its signature checks out (unknown types are ignored). */
export const webhookEventSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  data: z.object({ id: z.string() }).loose().optional(),
});
