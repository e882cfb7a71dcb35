import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { SCENE_DEFAULTS } from '../../workflows/scene-rules';
import type { ProviderProfile, SceneSpec, SeriesInput } from '../../workflows/types';
import { checkUrl, PUBLIC_ONLY, urlPolicyFromEnv, type UrlPolicy } from '../../common/url-policy';
import { capabilityIssues } from './capabilities';
import { formatIssue, formatPath, syntaxProblem, unreadable, type KnownFields } from './problems';
import { modelSchema, newSceneSchema, secondsSchema, sizeSchema } from './scene-schema';

/**
 * The series spec users write (YAML or JSON). One schema: it validates, converts to the
 * workflow input, and exports JSON Schema for editors (`sora-series schema`).
 *
 * Everything a spec can get wrong is refused here, before a workflow starts or an upstream is
 * called, with one line per problem naming the field and the fix:
 *  - shape and types (unknown fields are errors, with a "did you mean" where one fits);
 *  - URLs: http(s) only, no credentials, no private or loopback hosts unless allowed
 *    (common/url-policy.ts; the worker re-checks after DNS);
 *  - against the provider profiles (loadSpec; parseSpec when given `profiles`): providers that are
 *    not configured, sizes and durations no allowed provider renders, extraction where the
 *    contract has none;
 *  - characters: a series has exactly one. Prompts place it with `@character`; any other `@name`
 *    would be a second character the series does not carry across providers (relays answer
 *    `cameo_not_found`, the official contract takes at most 2 per video and only by id), so it is
 *    refused. `adopt` names one id per provider, only for providers the series uses.
 */

/** Spec files larger than this are refused unread. */
export const MAX_SPEC_FILE_BYTES = 4 * 1024 * 1024;
/**
 * Temporal refuses workflow inputs over 2 MB (and warns from 512 KB); a series also carries its
 * results across continue-as-new, so its input stays well under the limit.
 */
export const MAX_SERIES_INPUT_BYTES = 1024 * 1024;

export interface SpecOptions {
  /** Which private hosts URLs may name; default from SORA_SERIES_ALLOW_PRIVATE_URLS (none if unset). */
  urlPolicy?: UrlPolicy;
  /** Provider capabilities to check the spec against. parseSpec skips these checks without them; loadSpec uses the client's provider config. */
  profiles?: ProviderProfile[];
}

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

function specSchema(policy: UrlPolicy) {
  return z
    .strictObject({
      name,
      character: characterSchema(policy),
      routing: z.enum(['character', 'cost', 'stability']).default('character'),
      providers: z
        .array(z.string().min(1, 'must not be empty'))
        .min(1, 'list at least one provider')
        .default(['relay', 'official']),
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
    });
}

/** The schema with the default URL policy (public hosts only): JSON Schema and type. */
export const seriesSpecSchema = specSchema(PUBLIC_ONLY);

export type SeriesSpec = z.infer<typeof seriesSpecSchema>;

/** A spec that cannot run; `issues` name each field (`scenes[2].prompt: must not be empty`). */
export class SpecError extends Error {
  constructor(
    readonly issues: string[],
    source?: string,
  ) {
    super(`invalid series spec${source ? ` ${source}` : ''}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'SpecError';
  }
}

export { formatPath };

const KNOWN_FIELDS: KnownFields = {
  '': Object.keys(seriesSpecSchema.shape),
  character: Object.keys(characterSchema(PUBLIC_ONLY).shape),
  'character.extract': Object.keys(extractSchema.shape),
  defaults: ['seconds', 'size', 'model'],
  'scenes[]': Object.keys(sceneSchema.shape),
};

export function parseSpec(value: unknown, source?: string, options: SpecOptions = {}): SeriesSpec {
  const policy = options.urlPolicy ?? urlPolicyFromEnv(process.env);
  const parsed = specSchema(policy).safeParse(value, { reportInput: true });
  if (!parsed.success)
    throw new SpecError(
      parsed.error.issues.flatMap((issue) => formatIssue(issue, KNOWN_FIELDS)),
      source,
    );
  const issues = [
    ...(options.profiles ? capabilityIssues(parsed.data, options.profiles) : []),
    ...inputSizeIssues(parsed.data),
  ];
  if (issues.length) throw new SpecError(issues, source);
  return parsed.data;
}

/** Reads a YAML or JSON spec file; unreadable files and syntax errors are spec errors too. */
export async function loadSpec(file: string, options: SpecOptions = {}): Promise<SeriesSpec> {
  const size = await stat(file).then(
    (s) => (s.isDirectory() ? 'directory' : s.size),
    (err: NodeJS.ErrnoException) => {
      throw new SpecError([`${file}: ${unreadable(err)}`]);
    },
  );
  if (size === 'directory')
    throw new SpecError([`${file}: is a directory; give the path of the spec file (.yaml or .json)`]);
  if (size > MAX_SPEC_FILE_BYTES) {
    throw new SpecError([
      `${file}: is ${(size / 1024 / 1024).toFixed(1)} MB; a spec is at most ${MAX_SPEC_FILE_BYTES / 1024 / 1024} MB: split the series into several specs`,
    ]);
  }
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new SpecError([`${file}: ${unreadable(err)}`]);
  });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.includes('\u0000')) throw new TypeError('NUL');
  } catch {
    throw new SpecError([
      `${file}: not a YAML or JSON text file (it holds binary data, or text that is not UTF-8); give the spec, not a clip or video`,
    ]);
  }
  const isJson = extname(file).toLowerCase() === '.json';
  let value: unknown;
  try {
    value = isJson ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new SpecError([`not valid ${isJson ? 'JSON' : 'YAML'}: ${syntaxProblem(err as Error, text, isJson)}`], file);
  }
  const profiles = options.profiles ?? (await import('./provider-profiles')).clientProviderProfiles().profiles;
  return parseSpec(value, file, { ...options, profiles });
}

function inputSizeIssues(spec: SeriesSpec): string[] {
  const bytes = Buffer.byteLength(JSON.stringify(toSeriesInput(spec)));
  if (bytes <= MAX_SERIES_INPUT_BYTES) return [];
  return [
    `scenes: the series is ${(bytes / 1024 / 1024).toFixed(1)} MB as workflow input; at most ${MAX_SERIES_INPUT_BYTES / 1024 / 1024} MB fits Temporal's limits: split it into several series or shorten the prompts`,
  ];
}

/** The workflow input: defaults applied, scenes numbered from 1. */
export function toSeriesInput(spec: SeriesSpec): SeriesInput {
  const { character } = spec;
  const source: SeriesInput['character']['source'] = character.extract
    ? { kind: 'extract', provider: character.extract.provider, taskId: character.extract.task }
    : character.adopt
      ? { kind: 'adopt', ids: character.adopt, ...(character.clip ? { clipUrl: character.clip } : {}) }
      : { kind: 'clip', url: character.clip! };
  const scenes: SceneSpec[] = spec.scenes.map((s, i) => ({
    index: i + 1,
    ...(s.id !== undefined ? { id: s.id } : {}),
    prompt: s.prompt,
    seconds: s.seconds ?? spec.defaults.seconds,
    size: s.size ?? spec.defaults.size,
    ...((s.model ?? spec.defaults.model) ? { model: s.model ?? spec.defaults.model } : {}),
    ...(s.provider ? { provider: s.provider } : {}),
  }));
  return {
    name: spec.name,
    character: { name: character.name, description: character.description, source },
    scenes,
    routing: spec.routing,
    providers: spec.providers,
    ...(spec.maxParallel ? { maxParallel: spec.maxParallel } : {}),
    ...(spec.budgetUsd ? { budgetUsd: spec.budgetUsd } : {}),
    ...(spec.jobDeadlineSeconds ? { jobDeadlineSeconds: spec.jobDeadlineSeconds } : {}),
    ...(spec.circuitCooldownSeconds ? { circuitCooldownSeconds: spec.circuitCooldownSeconds } : {}),
    ...(spec.onRejection ? { onRejection: spec.onRejection } : {}),
    ...(spec.streaming ? { streaming: true } : {}),
    ...(spec.approval === 'required' ? { approval: 'required' as const } : {}),
    defaults: {
      seconds: spec.defaults.seconds,
      size: spec.defaults.size,
      ...(spec.defaults.model ? { model: spec.defaults.model } : {}),
    },
  };
}

/** JSON Schema of the spec, for editors. */
export function specJsonSchema(): unknown {
  return z.toJSONSchema(seriesSpecSchema, { io: 'input', unrepresentable: 'any' });
}
