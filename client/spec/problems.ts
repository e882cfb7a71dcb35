import { z } from 'zod';
import { formatPath } from '../../common/field-path';

/** How spec problems are worded: one line per problem, naming the field and the fix. */

export function unreadable(err: NodeJS.ErrnoException): string {
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
export function syntaxProblem(err: Error, text: string, isJson: boolean): string {
  const first = err.message.split('\n')[0].replace(/:$/, '');
  if (!isJson && /alias/i.test(first))
    return `${first}; write the values out instead of repeating YAML aliases (*name)`;
  if (!isJson) return `${first}; fix the syntax there (indent with spaces, quote text containing ": ")`;
  const position = /position (\d+)/.exec(first);
  if (!position) return first;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = Number(position[1]) - before.lastIndexOf('\n');
  return `${first} (line ${line}, column ${column}); fix the syntax there (no trailing commas or comments in JSON)`;
}

/** Words people write for a field, by where they write them. */
const SYNONYMS: Record<string, Record<string, string>> = {
  '': {
    characters: 'character',
    budget: 'budgetUsd',
    parallel: 'maxParallel',
    concurrency: 'maxParallel',
    provider: 'providers',
    route: 'routing',
    policy: 'routing',
    scene: 'scenes',
  },
  character: { video: 'clip', url: 'clip', source: 'clip', ids: 'adopt', id: 'adopt', task: 'extract' },
  'scenes[]': {
    duration: 'seconds',
    length: 'seconds',
    resolution: 'size',
    text: 'prompt',
    description: 'prompt',
    providers: 'provider',
  },
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

function unknownFieldHint(knownFields: KnownFields, where: string, key: string): string {
  const known = knownFields[where] ?? [];
  if (/key|token|secret|password|authorization/i.test(key)) {
    return "keys never go in a spec: export them in the worker's environment (the provider config names the variable)";
  }
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

/** Fields each part of the spec has, by where they are written (`''`, `character`, `scenes[]`). */
export type KnownFields = Record<string, readonly string[]>;

/** One zod issue as `field: problem; fix` lines. */
export function formatIssue(issue: z.core.$ZodIssue, knownFields: KnownFields): string[] {
  const path = formatPath(issue.path);
  const field = path || '(spec)';
  const where = formatPath(issue.path.map((k) => (typeof k === 'number' ? -1 : k))).replace(/\[-1\]/g, '[]');
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `${field}: unknown field "${key}" (${unknownFieldHint(knownFields, where, key)})`);
    case 'invalid_type': {
      if (!path)
        return [
          `(spec): must be a mapping with name, character and scenes (got ${describeValue(input)}); is this the spec file?`,
        ];
      if (input === undefined && !('received' in issue)) return [`${path}: is required${REQUIRED_HINTS[where] ?? ''}`];
      const received = (issue as { received?: string }).received;
      if (received === 'Infinity' || received === 'NaN') return [`${path}: must be a finite number (got ${received})`];
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      const hint =
        (issue.expected === 'number' || issue.expected === 'int') &&
        typeof input === 'string' &&
        input.trim() !== '' &&
        !Number.isNaN(Number(input))
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
