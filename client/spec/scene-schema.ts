import { z } from 'zod';
import {
  MAX_PROMPT_CHARS,
  MAX_REVIEW_NOTE_CHARS,
  MAX_SECONDS,
  MIN_SECONDS,
  modelProblems,
  noteProblems,
  promptProblemsAtTheDoor,
  secondsProblems,
  SIZES,
  sizeProblems,
} from '../../workflows/scene-rules';

/**
 * The scene fields of the spec and of the gateway's bodies as zod schemas, built from the series'
 * own checks (workflows/scene-rules.ts): each problem a rule finds becomes an issue with the rule's
 * words, and the JSON Schema (spec schema, OpenAPI) states the same limits.
 */

type Rule = (value: unknown) => string[];

/** The rule's problems as zod issues. */
const refinedBy =
  (rule: Rule) =>
  (value: unknown, ctx: z.RefinementCtx): void => {
    for (const message of rule(value)) ctx.addIssue({ code: 'custom', message });
  };

/** A wrong type gets the rule's words too (the spec words type errors its own way, client/spec/problems.ts). */
const typeError = (rule: Rule) => (issue: { input?: unknown }) => rule(issue.input)[0];

export const promptSchema = z
  .string({ error: typeError(promptProblemsAtTheDoor) })
  .trim()
  .superRefine(refinedBy(promptProblemsAtTheDoor))
  .meta({ minLength: 1, maxLength: MAX_PROMPT_CHARS })
  .describe(
    "What happens; write @character where the character appears (or @<name> for each of the series' characters).",
  );

export const secondsSchema = z
  .number({ error: typeError(secondsProblems) })
  .superRefine(refinedBy(secondsProblems))
  .meta({ type: 'integer', minimum: MIN_SECONDS, maximum: MAX_SECONDS });

export const sizeSchema = z.enum(SIZES, { error: typeError(sizeProblems) });

export const modelSchema = z
  .string({ error: typeError(modelProblems) })
  .superRefine(refinedBy(modelProblems))
  .meta({ minLength: 1 });

export const providerNameSchema = z.string().min(1, 'must not be empty');

export const reviewNoteSchema = z
  .string({ error: typeError(noteProblems) })
  .superRefine(refinedBy(noteProblems))
  .meta({ maxLength: MAX_REVIEW_NOTE_CHARS });

/** A scene as messages add it (workflows/messages.ts NewScene); unset fields take the series' defaults. */
export const newSceneSchema = z.strictObject({
  prompt: promptSchema,
  seconds: secondsSchema.optional().describe('Requested length; providers round up to what they support.'),
  size: sizeSchema.optional(),
  model: modelSchema.optional(),
  provider: providerNameSchema.optional().describe("Pin the scene to one of the series' providers."),
});
