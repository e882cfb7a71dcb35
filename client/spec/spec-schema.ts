import { z } from 'zod';
import { ROUTING_POLICIES } from '../../workflows/routing';
import { DEFAULT_PROVIDER_CHAIN } from '../../workflows/provider-rules';
import { SCENE_DEFAULTS } from '../../workflows/scene-rules';
import { checkUrl, PUBLIC_ONLY, type UrlPolicy } from '../../common/url-policy';
import { castMentionProblems, mentionsOf, promptProblems, writesCharacterToken } from '../../workflows/scene-rules';
import { characterDefinitionSchema, characterNameSchema } from './character-schema';
import type { KnownFields } from './problems';
import { modelSchema, newSceneSchema, secondsSchema, sizeSchema } from './scene-schema';

/**
 * The series spec users write (YAML or JSON), as one zod schema: parseSpec validates with it, and
 * it exports JSON Schema for editors (`sora-series schema`) and the gateway's OpenAPI. What the
 * schema itself refuses, one line per problem naming the field and the fix:
 *  - shape and types (unknown fields are errors, with a "did you mean" where one fits);
 *  - URLs: http(s) only, no credentials, no private or loopback hosts unless allowed
 *    (common/url-policy.ts; the worker re-checks after DNS);
 *  - characters: either the one-character form (`character:`, placed with `@character`; any other
 *    `@name` would be a character the series does not carry across providers, so it is refused),
 *    or a cast from the library (`characters:`, library names or inline definitions, each placed
 *    with `@<name>`): unknown `@names` and characters no scene mentions are refused. `adopt`
 *    names one id per provider, only for providers the series uses.
 */

const clipUrl = (policy: UrlPolicy) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = checkUrl(value, policy);
      if (problem) ctx.addIssue({ code: 'custom', message: problem.message });
    })
    .describe('Source clip (2-4 s) to create the character from: a public http(s) URL.');

const name = z
  .string()
  .min(1, 'must not be empty')
  .max(80, 'must be at most 80 characters')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'use letters, digits, dot, dash or underscore (it becomes the workflow id series/<name>)',
  );

/** A scene of the spec: a scene as messages add it, plus an optional id the results carry. */
const sceneSchema = z.strictObject({
  id: z
    .string()
    .min(1, 'must not be empty')
    .max(80, 'must be at most 80 characters')
    .optional()
    .describe('Optional stable scene id; unique within the series, reported with the scene (status, takes, manifest).'),
  ...newSceneSchema.shape,
});

const adoptedId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\s@]+$/, 'must be the bare character id (e.g. char_abc), without spaces or @');

const extractSchema = z.strictObject({
  provider: z.string().min(1, 'must not be empty'),
  task: z.string().min(1, 'must not be empty'),
});

const characterSchema = (policy: UrlPolicy) =>
  z
    .strictObject({
      name: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters'),
      description: z
        .string()
        .trim()
        .min(1, 'must not be empty; describe how the character looks')
        .max(1000, 'must be at most 1000 characters'),
      clip: clipUrl(policy).optional(),
      adopt: z
        .record(z.string(), adoptedId)
        .refine(
          (ids) => Object.keys(ids).length > 0,
          'names no id: give { <provider>: <character id> } or remove adopt',
        )
        .optional()
        .describe('Existing character ids by provider name (one character: one id per provider).'),
      extract: extractSchema.optional(),
    })
    .superRefine((c, ctx) => {
      const given = (['clip', 'adopt', 'extract'] as const).filter((k) => c[k] !== undefined);
      if (
        given.length === 0 ||
        (given.includes('extract') && given.length > 1) ||
        (given.includes('adopt') && given.includes('extract'))
      ) {
        ctx.addIssue({
          code: 'custom',
          message: 'give exactly one of clip, adopt or extract (adopt may be combined with clip)',
        });
      }
    });

const defaultsSchema = z
  .strictObject({
    seconds: secondsSchema.default(SCENE_DEFAULTS.seconds),
    size: sizeSchema.default(SCENE_DEFAULTS.size),
    model: modelSchema.optional(),
  })
  .default({ ...SCENE_DEFAULTS });

export function specSchema(policy: UrlPolicy) {
  return z
    .strictObject({
      name,
      character: characterSchema(policy).optional(),
      characters: z
        .array(z.union([characterNameSchema, characterDefinitionSchema(policy)]))
        .min(1, 'list at least one character, or use character: for the one-character form')
        .max(20, 'must be at most 20 characters; a scene holds at most a few')
        .optional()
        .describe(
          'The cast: library names (mira) or inline definitions {name, description, clip?, images?, adopt?, extract?}, each mentioned as @<name>.',
        ),
      routing: z.enum(ROUTING_POLICIES).default('character'),
      providers: z
        .array(z.string().min(1, 'must not be empty'))
        .min(1, 'list at least one provider')
        .default([...DEFAULT_PROVIDER_CHAIN]),
      defaults: defaultsSchema,
      maxParallel: z
        .number()
        .int('must be a whole number')
        .positive('must be at least 1')
        .max(100, 'must be at most 100')
        .optional(),
      budgetUsd: z.number().positive('must be more than 0 (USD); leave it out for no budget').optional(),
      jobDeadlineSeconds: z
        .number()
        .int('must be a whole number of seconds')
        .min(10, 'must be at least 10 (seconds); generations take minutes')
        .max(86_400, 'must be at most 86400 (a day)')
        .optional()
        .describe('A job not finished by then is given up (still paid) and becomes a new take. Default 1800.'),
      circuitCooldownSeconds: z
        .number()
        .int('must be a whole number of seconds')
        .min(1, 'must be at least 1')
        .max(86_400, 'must be at most 86400 (a day)')
        .optional()
        .describe('How long a provider found unavailable is skipped before one scene tries it again. Default 600.'),
      onRejection: z
        .enum(['allow', 'fail'])
        .optional()
        .describe('allow: the series ends completed_with_rejections; fail: it ends failed.'),
      streaming: z
        .boolean()
        .optional()
        .describe('Scenes keep coming by message (addScenes, appendScenes) until endOfScenes; scenes may start empty.'),
      approval: z
        .enum(['none', 'required'])
        .optional()
        .describe('required: the series completes only when every completed scene has an approved take.'),
      scenes: z.array(sceneSchema).max(10_000, 'must be at most 10000 scenes; split the series'),
    })
    .superRefine((spec, ctx) => {
      if (spec.scenes.length === 0 && !spec.streaming) {
        ctx.addIssue({
          code: 'custom',
          path: ['scenes'],
          message: 'add at least one scene, or set streaming: true to send scenes later (addScenes / appendScenes)',
        });
      }
      const listed = `[${spec.providers.join(', ')}]`;
      const seen = new Map<string, number>();
      spec.scenes.forEach((scene, i) => {
        if (scene.id !== undefined) {
          if (seen.has(scene.id))
            ctx.addIssue({
              code: 'custom',
              path: ['scenes', i, 'id'],
              message: `duplicates scenes[${seen.get(scene.id)}].id; scene ids must be unique`,
            });
          seen.set(scene.id, i);
        }
        if (scene.provider && !spec.providers.includes(scene.provider)) {
          ctx.addIssue({
            code: 'custom',
            path: ['scenes', i, 'provider'],
            message: `"${scene.provider}" is not in providers ${listed}; add it there or unpin the scene`,
          });
        }
      });
      if (spec.providers.length !== new Set(spec.providers).size)
        ctx.addIssue({ code: 'custom', path: ['providers'], message: 'lists a provider twice' });
      if (!!spec.character === !!spec.characters) {
        ctx.addIssue({
          code: 'custom',
          path: spec.character ? ['characters'] : ['character'],
          message: spec.character
            ? 'give either character: (one character, @character) or characters: (a cast from the library, @<name>), not both'
            : 'is required: give { name, description, clip } (placed with @character), or instead characters: [library names or definitions] (placed with @<name>)',
        });
        return;
      }
      if (spec.character) {
        const extract = spec.character.extract;
        if (extract && !spec.providers.includes(extract.provider)) {
          ctx.addIssue({
            code: 'custom',
            path: ['character', 'extract', 'provider'],
            message: `"${extract.provider}" is not in providers ${listed}; add it there`,
          });
        }
        for (const provider of Object.keys(spec.character.adopt ?? {})) {
          if (!spec.providers.includes(provider)) {
            ctx.addIssue({
              code: 'custom',
              path: ['character', 'adopt', provider],
              message: `"${provider}" is not in providers ${listed}; add it there or remove this id`,
            });
          }
        }
        // Prompts without @character skipped the mention rule at the field (it cannot tell the form there).
        spec.scenes.forEach((scene, i) => {
          if (writesCharacterToken(scene.prompt)) return;
          for (const message of promptProblems(scene.prompt).filter((p) => p.startsWith('mentions ')))
            ctx.addIssue({ code: 'custom', path: ['scenes', i, 'prompt'], message });
        });
        return;
      }
      const cast = spec.characters!.map((c) => (typeof c === 'string' ? c : c.name));
      const first = new Map<string, number>();
      cast.forEach((n, i) => {
        if (first.has(n))
          ctx.addIssue({
            code: 'custom',
            path: ['characters', i],
            message: `"${n}" is listed twice (also characters[${first.get(n)}]); list each character once`,
          });
        else first.set(n, i);
      });
      spec.characters!.forEach((c, i) => {
        if (typeof c === 'string') return;
        for (const provider of [...Object.keys(c.adopt ?? {}), ...(c.extract ? [c.extract.provider] : [])]) {
          if (!spec.providers.includes(provider))
            ctx.addIssue({
              code: 'custom',
              path: ['characters', i, c.extract?.provider === provider ? 'extract' : 'adopt'],
              message: `"${provider}" is not in providers ${listed}; add it there or remove it`,
            });
        }
      });
      const mentioned = new Set<string>();
      spec.scenes.forEach((scene, i) => {
        for (const message of castMentionProblems(scene.prompt, cast))
          ctx.addIssue({ code: 'custom', path: ['scenes', i, 'prompt'], message });
        for (const n of mentionsOf(scene.prompt)) if (cast.includes(n)) mentioned.add(n);
      });
      if (spec.scenes.length > 0)
        cast.forEach((n, i) => {
          if (!mentioned.has(n))
            ctx.addIssue({
              code: 'custom',
              path: ['characters', i],
              message: `"${n}" is not mentioned in any scene; write @${n} where it appears, or remove it from characters`,
            });
        });
    });
}

/** The schema with the default URL policy (public hosts only): JSON Schema and type. */
export const seriesSpecSchema = specSchema(PUBLIC_ONLY);

export type SeriesSpec = z.infer<typeof seriesSpecSchema>;

/** The fields each part of the spec has, for "did you mean" hints. */
export const KNOWN_FIELDS: KnownFields = {
  '': Object.keys(seriesSpecSchema.shape),
  character: Object.keys(characterSchema(PUBLIC_ONLY).shape),
  'characters[]': ['name', 'description', 'clip', 'images', 'adopt', 'extract'],
  'characters[].extract': ['provider', 'task'],
  'character.extract': Object.keys(extractSchema.shape),
  defaults: ['seconds', 'size', 'model'],
  'scenes[]': Object.keys(sceneSchema.shape),
};

/** JSON Schema of the spec, for editors. */
export function specJsonSchema(): unknown {
  return z.toJSONSchema(seriesSpecSchema, { io: 'input', unrepresentable: 'any' });
}
