import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayCommand } from '../gateway/command';
import { findProjectRoot } from '../../common/project-root';
import { CHARACTER_COMMANDS } from './character-commands';
import { codecServerCommand } from './codec-server';
import { columns, columnWidth, type CommandSpec } from './command';
import { healthcheckCommand } from './healthcheck';
import { providersCheckCommand } from './providers';
import { SERIES_COMMANDS } from './series-commands';
import { STACK_COMMANDS } from './stack-commands';
import { MESSAGE_COMMANDS } from './message-commands';
import { WATCHING_COMMANDS } from './watching-commands';

/** The one table of commands: the CLI dispatches from it and its help lists it, in this order. */
export const COMMAND_GROUPS: ReadonlyArray<{ title: string; commands: Record<string, CommandSpec> }> = [
  { title: 'series', commands: SERIES_COMMANDS },
  {
    title: 'watching and steering a running series (<id>: a series name or its workflow id series/<name>)',
    commands: { ...WATCHING_COMMANDS, ...MESSAGE_COMMANDS },
  },
  {
    title: 'running the stack',
    commands: {
      ...STACK_COMMANDS,
      gateway: gatewayCommand,
      'codec-server': codecServerCommand,
      healthcheck: healthcheckCommand,
      'providers check': providersCheckCommand,
    },
  },
  { title: 'the character library (one cast for every series)', commands: CHARACTER_COMMANDS },
];

export const COMMANDS: Readonly<Record<string, CommandSpec>> = Object.assign(
  {},
  ...COMMAND_GROUPS.map((g) => g.commands),
);

/** The version in package.json, the same from `client/` (jest) and `dist/client/`. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(findProjectRoot(__dirname), 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** What `sora-series --help` prints. */
export function mainHelp(): string {
  const rows = COMMAND_GROUPS.map((g) =>
    Object.entries(g.commands).map(([name, c]): [string, string] => [
      [name, ...c.args.map((a) => `<${a}>`)].join(' '),
      c.summary,
    ]),
  );
  const width = columnWidth(rows.flat());
  const groups = COMMAND_GROUPS.map((g, i) => `${g.title}:\n${columns(rows[i], width)}`);
  return [
    `sora-series ${packageVersion()}: durable AI video series with a consistent cast, on Temporal`,
    [
      'usage: sora-series <command> [arguments] [options]',
      '       sora-series <command> --help    its arguments and options (also: sora-series help <command>)',
      '       sora-series --version',
    ].join('\n'),
    ...groups,
    [
      'connection: a profile of temporal.toml (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE; default profile "default")',
      '  with the TEMPORAL_* variables over it: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default),',
      '  TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CERT / _KEY / _CA / _SERVER_NAME;',
      '  SORA_SERIES_TASK_QUEUE (sora-series), SORA_SERIES_PROVIDERS (provider config file), SORA_SERIES_DATA_DIR (.data)',
    ].join('\n'),
    'exit codes: 0 ok, 1 refused by the series or a waited series that did not complete, 2 bad input or usage',
  ].join('\n\n');
}
