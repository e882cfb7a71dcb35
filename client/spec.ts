import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { ProviderProfile, SceneSpec, SeriesInput } from '../workflows/types';
import { checkUrl, PUBLIC_ONLY, urlPolicyFromEnv, type UrlPolicy } from './url-policy';

/**
 * The series spec users write (YAML or JSON). One schema: it validates, converts to the
 * workflow input, and exports JSON Schema for editors (`sora-series schema`).
 *
 * Everything a spec can get wrong is refused here, before a workflow starts or an upstream is
 * called, with one line per problem naming the field and the fix:
 *  - shape and types (unknown fields are errors, with a "did you mean" where one fits);
 *  - URLs: http(s) only, no credentials, no private or loopback hosts unless allowed
 *    (client/url-policy.ts; the worker re-checks after DNS);
 *  - against the provider profiles (loadSpec; parseSpec when given `profiles`): providers that are
 *    not configured, sizes and durations no allowed provider renders, extraction where the
 *    contract has none;
 *  - characters: a series has exactly one. Prompts place it with `@character`; any other `@name`
 *    would be a second character the series does not carry across providers (relays answer
 *    `cameo_not_found`, the official contract takes at most 2 per video and only by id), so it is
 *    refused. `adopt` names one id per provider, only for providers the series uses.
 */

const SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024', '1920x1080', '1080x1920'] as const;
const MAX_PROMPT_CHARS = 4000;
const MAX_SECONDS = 20;
/** Spec files larger than this are refused unread. */
export const MAX_SPEC_FILE_BYTES = 4 * 1024 * 1024;
/**
 * Temporal refuses workflow inputs over 2 MB (and warns from 512 KB); a series also carries its
 * results across continue-as-new, so its input stays well under the limit.
 */
export const MAX_SERIES_INPUT_BYTES = 1024 * 1024;
/** Only relay-v1 can make a character from an earlier task. */
const EXTRACTING_CONTRACTS: ReadonlySet<string> = new Set(['relay-v1']);

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
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, dot, dash or underscore (it becomes the workflow id series/<name>)');

const seconds = z
  .number()
  .int('must be a whole number of seconds')
  .positive('must be more than 0 seconds')
  .max(MAX_SECONDS, `must be at most ${MAX_SECONDS} seconds; split a longer scene into several`);

const size = z.enum(SIZES);

/** `@word` not preceded by a word character (so e-mail addresses are not mentions). */
const MENTION = /(^|[^\w@.-])@([A-Za-z0-9_][\w.-]*)/g;
const CHARACTER_TOKEN = 'character';
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const prompt = z
  .string()
  .trim()
  .min(1, 'must not be empty; describe what happens in the scene')
  .max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters; split the scene or shorten the prompt`)
  .superRefine((text, ctx) => {
    if (CONTROL_CHARS.test(text)) ctx.addIssue({ code: 'custom', message: 'contains control characters (e.g. NUL); remove them' });
    const others = new Set<string>();
    for (const match of text.matchAll(MENTION)) {
      const handle = match[2].replace(/[.-]+$/, '');
      if (handle === CHARACTER_TOKEN) continue;
      if (handle.toLowerCase().startsWith(CHARACTER_TOKEN)) {
        ctx.addIssue({ code: 'custom', message: `writes @${handle}: the character token is exactly @character (lowercase)` });
      } else {
        others.add(`@${handle}`);
      }
    }
    if (others.size) {
      ctx.addIssue({
        code: 'custom',
        message: `mentions ${[...others].join(', ')}: a series has one character, placed with @character; other characters are not carried from provider to provider (and the official contract takes at most 2 per video), so describe them in words or drop the @`,
      });
    }
  })
  .describe('What happens; write @character where the character appears.');

const sceneSchema = z.strictObject({
  id: z.string().min(1, 'must not be empty').max(80, 'must be at most 80 characters').optional().describe('Optional stable scene id; unique within the series.'),
  prompt,
  seconds: seconds.optional().describe('Requested length; providers round up to what they support.'),
  size: size.optional(),
  model: z.string().min(1, 'must not be empty').optional(),
  provider: z.string().min(1, 'must not be empty').optional().describe('Pin this scene to one provider.'),
});

const adoptedId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\s@]+$/, 'must be the bare character id (e.g. char_abc), without spaces or @');

const extractSchema = z.strictObject({ provider: z.string().min(1, 'must not be empty'), task: z.string().min(1, 'must not be empty') });

const characterSchema = (policy: UrlPolicy) =>
  z
    .strictObject({
      name: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters'),
      description: z.string().trim().min(1, 'must not be empty; describe how the character looks').max(1000, 'must be at most 1000 characters'),
      clip: clipUrl(policy).optional(),
      adopt: z
        .record(z.string(), adoptedId)
        .refine((ids) => Object.keys(ids).length > 0, 'names no id: give { <provider>: <character id> } or remove adopt')
        .optional()
        .describe('Existing character ids by provider name (one character: one id per provider).'),
      extract: extractSchema.optional(),
    })
    .superRefine((c, ctx) => {
      const given = (['clip', 'adopt', 'extract'] as const).filter((k) => c[k] !== undefined);
      if (given.length === 0 || (given.includes('extract') && given.length > 1) || (given.includes('adopt') && given.includes('extract'))) {
        ctx.addIssue({ code: 'custom', message: 'give exactly one of clip, adopt or extract (adopt may be combined with clip)' });
      }
    });

const defaultsSchema = z
  .strictObject({ seconds: seconds.default(10), size: size.default('720x1280'), model: z.string().min(1, 'must not be empty').optional() })
  .default({ seconds: 10, size: '720x1280' });

function specSchema(policy: UrlPolicy) {
  return z
    .strictObject({
      name,
      character: characterSchema(policy),
      routing: z.enum(['character', 'cost', 'stability']).default('character'),
      providers: z.array(z.string().min(1, 'must not be empty')).min(1, 'list at least one provider').default(['relay', 'official']),
      defaults: defaultsSchema,
      maxParallel: z.number().int('must be a whole number').positive('must be at least 1').max(100, 'must be at most 100').optional(),
      budgetUsd: z.number().positive('must be more than 0 (USD); leave it out for no budget').optional(),
      scenes: z.array(sceneSchema).min(1, 'add at least one scene').max(10_000, 'must be at most 10000 scenes; split the series'),
    })
    .superRefine((spec, ctx) => {
      const listed = `[${spec.providers.join(', ')}]`;
      const seen = new Map<string, number>();
      spec.scenes.forEach((scene, i) => {
        if (scene.id !== undefined) {
          if (seen.has(scene.id)) ctx.addIssue({ code: 'custom', path: ['scenes', i, 'id'], message: `duplicates scenes[${seen.get(scene.id)}].id; scene ids must be unique` });
          seen.set(scene.id, i);
        }
        if (scene.provider && !spec.providers.includes(scene.provider)) {
          ctx.addIssue({ code: 'custom', path: ['scenes', i, 'provider'], message: `"${scene.provider}" is not in providers ${listed}; add it there or unpin the scene` });
        }
      });
      if (spec.providers.length !== new Set(spec.providers).size) ctx.addIssue({ code: 'custom', path: ['providers'], message: 'lists a provider twice' });
      const extract = spec.character.extract;
      if (extract && !spec.providers.includes(extract.provider)) {
        ctx.addIssue({ code: 'custom', path: ['character', 'extract', 'provider'], message: `"${extract.provider}" is not in providers ${listed}; add it there` });
      }
      for (const provider of Object.keys(spec.character.adopt ?? {})) {
        if (!spec.providers.includes(provider)) {
          ctx.addIssue({ code: 'custom', path: ['character', 'adopt', provider], message: `"${provider}" is not in providers ${listed}; add it there or remove this id` });
        }
      }
    });
}

/** The schema with the default URL policy (public hosts only): JSON Schema and type. */
export const seriesSpecSchema = specSchema(PUBLIC_ONLY);

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

export function parseSpec(value: unknown, source?: string, options: SpecOptions = {}): SeriesSpec {
  const policy = options.urlPolicy ?? urlPolicyFromEnv(process.env);
  const parsed = specSchema(policy).safeParse(value, { reportInput: true });
  if (!parsed.success) throw new SpecError(parsed.error.issues.flatMap(formatIssue), source);
  const issues = [...(options.profiles ? capabilityIssues(parsed.data, options.profiles) : []), ...inputSizeIssues(parsed.data)];
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
  if (size === 'directory') throw new SpecError([`${file}: is a directory; give the path of the spec file (.yaml or .json)`]);
  if (size > MAX_SPEC_FILE_BYTES) {
    throw new SpecError([`${file}: is ${(size / 1024 / 1024).toFixed(1)} MB; a spec is at most ${MAX_SPEC_FILE_BYTES / 1024 / 1024} MB: split the series into several specs`]);
  }
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new SpecError([`${file}: ${unreadable(err)}`]);
  });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.includes('\u0000')) throw new TypeError('NUL');
  } catch {
    throw new SpecError([`${file}: not a YAML or JSON text file (it holds binary data, or text that is not UTF-8); give the spec, not a clip or video`]);
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

function unreadable(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return `no such file (looked in ${process.cwd()}); check the path`;
    case 'EACCES':
    case 'EPERM':
      return 'not readable (permission denied)';
    case 'EISDIR':
      return 'is a directory; give the path of the spec file (.yaml or .json)';
    default:
      return `cannot read it (${err.code ?? err.message})`;
  }
}

/** The parser's complaint, one line, with where it is (JSON positions become line and column). */
function syntaxProblem(err: Error, text: string, isJson: boolean): string {
  const first = err.message.split('\n')[0].replace(/:$/, '');
  if (!isJson && /alias/i.test(first)) return `${first}; write the values out instead of repeating YAML aliases (*name)`;
  if (!isJson) return `${first}; fix the syntax there (indent with spaces, quote text containing ": ")`;
  const position = /position (\d+)/.exec(first);
  if (!position) return first;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = Number(position[1]) - before.lastIndexOf('\n');
  return `${first} (line ${line}, column ${column}); fix the syntax there (no trailing commas or comments in JSON)`;
}

// ---------------------------------------------------------------------------------------------
// Messages

const KNOWN_FIELDS: Record<string, readonly string[]> = {
  '': Object.keys(seriesSpecSchema.shape),
  character: Object.keys(characterSchema(PUBLIC_ONLY).shape),
  'character.extract': Object.keys(extractSchema.shape),
  defaults: ['seconds', 'size', 'model'],
  'scenes[]': Object.keys(sceneSchema.shape),
};

/** Words people write for a field, by where they write them. */
const SYNONYMS: Record<string, Record<string, string>> = {
  '': { characters: 'character', budget: 'budgetUsd', parallel: 'maxParallel', concurrency: 'maxParallel', provider: 'providers', route: 'routing', policy: 'routing', scene: 'scenes' },
  character: { video: 'clip', url: 'clip', source: 'clip', ids: 'adopt', id: 'adopt', task: 'extract' },
  'scenes[]': { duration: 'seconds', length: 'seconds', resolution: 'size', text: 'prompt', description: 'prompt', providers: 'provider' },
  defaults: { duration: 'seconds', length: 'seconds', resolution: 'size' },
};

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  array: 'a list',
  object: 'a mapping (key: value)',
  record: 'a mapping of provider name to id',
  boolean: 'true or false',
};

const REQUIRED_HINTS: Record<string, string> = {
  name: ' (it becomes the workflow id series/<name>)',
  character: ': give { name, description, clip }',
  'character.name': '',
  'character.description': ': describe how the character looks (used where a provider cannot hold the character)',
  scenes: ': give a list of { prompt }',
  'scenes[].prompt': ': describe what happens, with @character where the character appears',
};

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function unknownFieldHint(where: string, key: string): string {
  const known = KNOWN_FIELDS[where] ?? [];
  if (/key|token|secret|password|authorization/i.test(key)) {
    return "keys never go in a spec: export them in the worker's environment (the provider config names the variable)";
  }
  if (where === '' && key === 'characters') return 'a series has exactly one character: use character: { name, description, clip }';
  const lower = key.toLowerCase();
  const guess =
    SYNONYMS[where]?.[lower] ??
    known.find((k) => k.toLowerCase() === lower) ??
    known.find((k) => editDistance(k.toLowerCase(), lower) <= Math.min(2, Math.floor(k.length / 3))) ??
    known.find((k) => lower.length >= 4 && k.toLowerCase().startsWith(lower));
  const owner = where === '' ? 'a spec' : where === 'scenes[]' ? 'a scene' : where;
  return `${guess ? `did you mean "${guess}"? ` : ''}remove it or fix its spelling; ${owner} takes ${known.join(', ')}`;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

/** One zod issue as `field: problem; fix` lines. */
function formatIssue(issue: z.core.$ZodIssue): string[] {
  const path = formatPath(issue.path);
  const field = path || '(spec)';
  const where = formatPath(issue.path.map((k) => (typeof k === 'number' ? -1 : k))).replace(/\[-1\]/g, '[]');
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `${field}: unknown field "${key}" (${unknownFieldHint(where, key)})`);
    case 'invalid_type': {
      if (!path) return [`(spec): must be a mapping with name, character and scenes (got ${describeValue(input)}); is this the spec file?`];
      if (input === undefined && !('received' in issue)) return [`${path}: is required${REQUIRED_HINTS[where] ?? ''}`];
      const received = (issue as { received?: string }).received;
      if (received === 'Infinity' || received === 'NaN') return [`${path}: must be a finite number (got ${received})`];
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      const hint =
        (issue.expected === 'number' || issue.expected === 'int') && typeof input === 'string' && input.trim() !== '' && !Number.isNaN(Number(input))
          ? `; write ${input.trim()} without quotes`
          : Array.isArray(input) && where.startsWith('character.adopt.')
            ? '; a series has one character: one id per provider'
            : '';
      return [`${path}: must be ${expected} (got ${describeValue(input)})${hint}`];
    }
    case 'invalid_value':
      return [`${path}: must be one of ${issue.values.map(String).join(', ')} (got ${describeValue(input)})`];
    default:
      return [`${field}: ${issue.message}`];
  }
}

// ---------------------------------------------------------------------------------------------
// Against the providers

/**
 * What the configured providers cannot do for this spec. Scenes pinned to a provider must fit
 * it; other scenes need at least one allowed provider that renders their size and length.
 * Identical problems of many scenes are folded into one line.
 */
function capabilityIssues(spec: SeriesSpec, profiles: ProviderProfile[]): string[] {
  const issues: string[] = [];
  const configured = new Map(profiles.map((p) => [p.name, p]));
  const configuredNames = [...configured.keys()].join(', ') || 'none';
  spec.providers.forEach((provider, i) => {
    if (!configured.has(provider)) {
      issues.push(`providers[${i}]: "${provider}" is not configured (configured: ${configuredNames}); remove it or add it to the provider config (SORA_SERIES_PROVIDERS)`);
    }
  });
  const allowed = spec.providers.flatMap((n) => configured.get(n) ?? []);
  if (allowed.length === 0) return issues;

  const extract = spec.character.extract;
  const extractor = extract && configured.get(extract.provider);
  if (extractor && !EXTRACTING_CONTRACTS.has(extractor.contract)) {
    const able = allowed.filter((p) => EXTRACTING_CONTRACTS.has(p.contract)).map((p) => p.name);
    issues.push(
      `character.extract.provider: "${extractor.name}" (${extractor.contract} contract) cannot make a character from a task; ${able.length ? `extract on ${able.join(' or ')}` : 'extract on a relay-v1 provider'} or give character.clip`,
    );
  }

  const byProblem = new Map<string, string[]>();
  const add = (field: string, problem: string) => byProblem.set(problem, [...(byProblem.get(problem) ?? []), field]);
  const secondsList = (p: ProviderProfile) => `${[...p.seconds].sort((a, b) => a - b).join(', ')} s`;
  const longest = (ps: ProviderProfile[]) => Math.max(...ps.flatMap((p) => p.seconds));
  spec.scenes.forEach((scene, i) => {
    const sizeWanted = scene.size ?? spec.defaults.size;
    const sizeFrom = scene.size ? '' : ' (from defaults.size)';
    const secondsWanted = scene.seconds ?? spec.defaults.seconds;
    const secondsFrom = scene.seconds ? '' : ' (from defaults.seconds)';
    if (scene.provider) {
      const pinned = configured.get(scene.provider);
      if (!pinned) return; // reported under providers
      const others = allowed.filter((p) => p !== pinned);
      if (!pinned.sizes.includes(sizeWanted)) {
        const alternatives = others.filter((p) => p.sizes.includes(sizeWanted)).map((p) => p.name);
        add(
          `scenes[${i}].size`,
          `${sizeWanted}${sizeFrom} is not a size ${pinned.name} renders (it renders ${pinned.sizes.join(', ')}); use one of those${alternatives.length ? ` or pin the scene to ${alternatives.join(' or ')}` : ''}`,
        );
      }
      if (secondsWanted > longest([pinned])) {
        const alternatives = others.filter((p) => longest([p]) >= secondsWanted).map((p) => p.name);
        add(
          `scenes[${i}].seconds`,
          `${secondsWanted} s${secondsFrom} is longer than ${pinned.name} renders (${secondsList(pinned)}); use at most ${longest([pinned])}${alternatives.length ? ` or pin the scene to ${alternatives.join(' or ')}` : ', or split the scene'}`,
        );
      }
      return;
    }
    const fitting = allowed.filter((p) => p.sizes.includes(sizeWanted));
    if (fitting.length === 0) {
      const elsewhere = profiles.filter((p) => !spec.providers.includes(p.name) && p.sizes.includes(sizeWanted)).map((p) => p.name);
      const offered = [...new Set(allowed.flatMap((p) => p.sizes))].join(', ');
      add(
        `scenes[${i}].size`,
        `${sizeWanted}${sizeFrom} is not rendered by any provider in providers [${spec.providers.join(', ')}]; use ${offered}${elsewhere.length ? ` or add ${elsewhere.join(' or ')} to providers` : ''}`,
      );
    } else if (secondsWanted > longest(fitting)) {
      add(
        `scenes[${i}].seconds`,
        `${secondsWanted} s${secondsFrom} is longer than any provider in providers renders at ${sizeWanted} (${fitting.map((p) => `${p.name}: ${secondsList(p)}`).join('; ')}); use at most ${longest(fitting)} or split the scene`,
      );
    }
  });
  for (const [problem, fields] of byProblem) {
    const shown = fields.slice(0, 3).join(', ');
    issues.push(`${shown}${fields.length > 3 ? ` and ${fields.length - 3} more scenes` : ''}: ${problem}`);
  }
  return issues;
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
