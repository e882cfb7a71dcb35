import { parseArgs } from 'node:util';
import { ArgumentError } from '../series/series-id';

/**
 * What a CLI command is: its arguments and options (with the words its help prints), and how
 * it runs. The usage line, `--help` and argument parsing are all derived from this one
 * description, so they cannot drift apart.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in usage lines (`--port N`); string options only. */
  value?: string;
  help: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandInput {
  /** Positional arguments, in the order of {@link CommandSpec.args}, all present. */
  args: string[];
  values: OptionValues;
  print: (text: string) => void;
}

export interface CommandSpec {
  /** One line for the command list. */
  summary: string;
  /** More for `<command> --help`: what happens, what it prints, exit codes when they differ. */
  details?: string;
  /** Names of the positional arguments, all required; described once in {@link ARGUMENTS}. */
  args: readonly ArgumentName[];
  /** Positional arguments that may be left out, after `args` (`[<character file>]`). */
  optionalArgs?: readonly ArgumentName[];
  options?: Record<string, OptionSpec>;
  /** Resolves to the exit code; a usage problem is thrown as {@link ArgumentError} (exit 2). */
  run(input: CommandInput): Promise<number>;
}

/** Every positional argument a command takes, described in one place. */
export const ARGUMENTS = {
  spec: 'a series spec file (.yaml, .yml or .json); `sora-series schema` prints its JSON Schema',
  id: 'a series name (my-series) or its workflow id (series/my-series)',
  scene: 'a scene index, from 1',
  take: 'a take number of that scene, from 1',
  'scenes file': 'a .yaml or .json file with [{prompt, seconds?, size?, model?, provider?}] (or {scenes: [...]})',
  policy: 'character (keep the character best), cost (cheapest first) or stability (the most reliable provider)',
  usd: 'the new budget in US dollars',
  'character file': 'a character definition (.yaml or .json): {name, description, clip?, images?, adopt?, extract?}',
  name: 'a character name in the library (mira)',
} as const;
export type ArgumentName = keyof typeof ARGUMENTS;

const HELP: OptionSpec = { type: 'boolean', help: 'print this help and exit' };

/** `--json` on every command that can answer in JSON. */
export const JSON_OPTION: OptionSpec = { type: 'boolean', help: 'print JSON instead of text' };

/** `--help` or `-h` anywhere before a `--`: help wins over any other argument, which is not checked. */
export function asksForHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

const optionUsage = (name: string, o: OptionSpec) => `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;

/** `sora-series start <spec> [--id ID] [--wait]` */
export function usageLine(name: string, spec: CommandSpec): string {
  const options = Object.entries(spec.options ?? {}).map(([n, o]) => `[${optionUsage(n, o)}]`);
  const optional = (spec.optionalArgs ?? []).map((a) => `[<${a}>]`);
  return ['sora-series', name, ...spec.args.map((a) => `<${a}>`), ...optional, ...options].join(' ');
}

/** Where the second of two columns starts: past the widest first one. */
export const columnWidth = (rows: Array<[string, string]>) => Math.max(0, ...rows.map(([left]) => left.length)) + 2;

/** Two columns; several lists share a `width` to line up. */
export function columns(rows: Array<[string, string]>, width = columnWidth(rows), indent = '  '): string {
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}${right}`.trimEnd()).join('\n');
}

/** Breaks prose into lines of at most `width` characters, at spaces. */
function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** What `sora-series <command> --help` prints. */
export function commandHelp(name: string, spec: CommandSpec): string {
  const sections = [`usage: ${usageLine(name, spec)}`, spec.summary, ...(spec.details ? [wrap(spec.details)] : [])];
  const every = [...spec.args, ...(spec.optionalArgs ?? [])];
  if (every.length > 0) sections.push(`arguments:\n${columns(every.map((a) => [`<${a}>`, ARGUMENTS[a]]))}`);
  const options = Object.entries({ ...spec.options, help: HELP }).map(([n, o]): [string, string] => [
    n === 'help' ? '-h, --help' : optionUsage(n, o),
    o.help,
  ]);
  sections.push(`options:\n${columns(options)}`);
  return sections.join('\n\n');
}

/** Parses and checks the arguments of one command, naming the problem and the usage. */
export function parseCommand(
  name: string,
  spec: CommandSpec,
  argv: string[],
): { args: string[]; values: OptionValues } {
  const usage = `usage: ${usageLine(name, spec)} (sora-series ${name} --help for more)`;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(spec.options ?? {}).map(([n, o]) => [n, { type: o.type }])),
    });
  } catch (err) {
    throw new ArgumentError(`${name}: ${(err as Error).message}\n${usage}`);
  }
  const { values, positionals } = parsed;
  const missing = spec.args.slice(positionals.length);
  if (missing.length > 0) throw new ArgumentError(`${name}: missing <${missing[0]}>\n${usage}`);
  const most = spec.args.length + (spec.optionalArgs?.length ?? 0);
  if (positionals.length > most)
    throw new ArgumentError(`${name}: unexpected argument "${positionals[most]}"\n${usage}`);
  return { args: positionals, values: values as OptionValues };
}

/** A port option's value; `fallback` when it is not given. */
export function portOption(values: OptionValues, name: string, fallback: number): number;
export function portOption(values: OptionValues, name: string): number | undefined;
export function portOption(values: OptionValues, name: string, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || port > 65535)
    throw new ArgumentError(`--${name}: must be a port number (0-65535), got "${String(raw)}"`);
  return port;
}
