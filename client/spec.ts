import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { SceneSpec, SeriesInput } from '../workflows/types';

/**
 * The series spec users write (YAML or JSON). One schema: it validates, converts to the
 * workflow input, and exports JSON Schema for editors (`sora-series schema`).
 */

const SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024', '1920x1080', '1080x1920'] as const;
const MAX_PROMPT_CHARS = 4000;

const httpUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL')
  .refine((u) => !/^https?:\/\/[^/]*@/i.test(u), 'must not carry credentials (user:password@); give the provider keys to the worker instead');

const name = z
  .string()
  .min(1, 'must not be empty')
  .max(80, 'must be at most 80 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, dot, dash or underscore (it becomes the workflow id series/<name>)');

const sceneSchema = z.strictObject({
  id: z.string().min(1).max(80).optional().describe('Optional stable scene id; unique within the series.'),
  prompt: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`)
    .describe('What happens; write @character where the character appears.'),
  seconds: z.number().int().positive().max(20).optional().describe('Requested length; providers round up to what they support.'),
  size: z.enum(SIZES).optional(),
  model: z.string().min(1).optional(),
  provider: z.string().min(1).optional().describe('Pin this scene to one provider.'),
});

const characterSchema = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters'),
    description: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
    clip: httpUrl.optional().describe('Source clip (2-4 s) to create the character from.'),
    adopt: z.record(z.string(), z.string().min(1)).optional().describe('Existing character ids by provider name.'),
    extract: z.strictObject({ provider: z.string().min(1), task: z.string().min(1) }).optional(),
  })
  .superRefine((c, ctx) => {
    const given = (['clip', 'adopt', 'extract'] as const).filter((k) => c[k] !== undefined);
    if (given.length === 0 || (given.includes('extract') && given.length > 1) || (given.includes('adopt') && given.includes('extract'))) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of clip, adopt or extract (adopt may be combined with clip)' });
    }
  });

export const seriesSpecSchema = z
  .strictObject({
    name,
    character: characterSchema,
    routing: z.enum(['character', 'cost', 'stability']).default('character'),
    providers: z.array(z.string().min(1)).min(1, 'list at least one provider').default(['relay', 'official']),
    defaults: z
      .strictObject({ seconds: z.number().int().positive().max(20).default(10), size: z.enum(SIZES).default('720x1280'), model: z.string().min(1).optional() })
      .default({ seconds: 10, size: '720x1280' }),
    maxParallel: z.number().int().positive().max(100).optional(),
    budgetUsd: z.number().positive('must be more than 0').optional(),
    scenes: z.array(sceneSchema).min(1, 'add at least one scene').max(10_000),
  })
  .superRefine((spec, ctx) => {
    const seen = new Map<string, number>();
    spec.scenes.forEach((scene, i) => {
      if (scene.id !== undefined) {
        if (seen.has(scene.id)) ctx.addIssue({ code: 'custom', path: ['scenes', i, 'id'], message: `duplicates scenes[${seen.get(scene.id)}].id; scene ids must be unique` });
        seen.set(scene.id, i);
      }
      if (scene.provider && !spec.providers.includes(scene.provider)) {
        ctx.addIssue({ code: 'custom', path: ['scenes', i, 'provider'], message: `"${scene.provider}" is not in providers [${spec.providers.join(', ')}]` });
      }
    });
    if (spec.providers.length !== new Set(spec.providers).size) ctx.addIssue({ code: 'custom', path: ['providers'], message: 'lists a provider twice' });
    const extract = spec.character.extract;
    if (extract && !spec.providers.includes(extract.provider)) {
      ctx.addIssue({ code: 'custom', path: ['character', 'extract', 'provider'], message: `"${extract.provider}" is not in providers [${spec.providers.join(', ')}]` });
    }
  });

export type SeriesSpec = z.infer<typeof seriesSpecSchema>;

/** A spec that cannot run; `issues` name each field (`scenes[2].prompt: must not be empty`). */
export class SpecError extends Error {
  constructor(readonly issues: string[], source?: string) {
    super(`invalid series spec${source ? ` ${source}` : ''}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'SpecError';
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

export function parseSpec(value: unknown, source?: string): SeriesSpec {
  const parsed = seriesSpecSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new SpecError(
    parsed.error.issues.map((i) => `${formatPath(i.path) || '(spec)'}: ${i.message}`),
    source,
  );
}

/** Reads a YAML or JSON spec file; syntax errors are spec errors too. */
export async function loadSpec(file: string): Promise<SeriesSpec> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new SpecError([`cannot read ${file}: ${err.code ?? err.message}`]);
  });
  let value: unknown;
  try {
    value = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new SpecError([`not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`], file);
  }
  return parseSpec(value, file);
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
    prompt: s.prompt,
    seconds: s.seconds ?? spec.defaults.seconds,
    size: s.size ?? spec.defaults.size,
    ...(s.model ?? spec.defaults.model ? { model: s.model ?? spec.defaults.model } : {}),
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
  };
}

/** JSON Schema of the spec, for editors. */
export function specJsonSchema(): unknown {
  return z.toJSONSchema(seriesSpecSchema, { io: 'input', unrepresentable: 'any' });
}
