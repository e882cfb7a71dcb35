import type { Client } from '@temporalio/client';
import { connectClient, type ConnectedClient } from '../series/connect';
import { MessageRefusedError, ScenesRefusedError } from '../series/steering';
import { temporalSettings, type TemporalSettings } from '../../common/temporal/settings';
import { JSON_OPTION, type CommandInput, type CommandSpec, type OptionValues } from './command';

/**
 * How the commands that watch and steer a running series run. Exit codes: 0 done, 1 refused by
 * the series (its words are printed) or a watched series that did not complete, 2 usage (thrown,
 * printed by cli.ts).
 */

export interface SteeringContext {
  /** Connects on first use: arguments are checked before Temporal is reached. */
  connect(): Promise<Client>;
  settings(): TemporalSettings;
  values: OptionValues;
  args: string[];
  json: boolean;
  print: (text: string) => void;
}

/** A steering command: a {@link CommandSpec} whose run gets a lazily connected client. */
export type SteeringCommand = Omit<CommandSpec, 'run'> & { run(ctx: SteeringContext): Promise<number> };

/** A string option's value, if given. */
export const stringOption = (values: OptionValues, name: string) => values[name] as string | undefined;

/** Prints the answer (as JSON with --json, else as text) and exits 0. */
export function printed(ctx: SteeringContext, json: unknown, text: string): number {
  ctx.print(ctx.json ? JSON.stringify(json) : text);
  return 0;
}

/**
 * A steering command as the CLI runs it: it connects on first use (arguments are checked first),
 * and a refusal by the series exits 1 with the series' own words.
 */
function steering(command: SteeringCommand): CommandSpec {
  return {
    ...command,
    options: { ...command.options, json: JSON_OPTION },
    async run({ args, values, print }: CommandInput) {
      let connected: Promise<ConnectedClient> | undefined;
      try {
        return await command.run({
          connect: async () => (await (connected ??= connectClient())).client,
          settings: () => temporalSettings(),
          values,
          args,
          json: Boolean(values.json),
          print,
        });
      } catch (err) {
        // The series' (or the scene checks') own words: which field, and the fix.
        if (err instanceof MessageRefusedError || err instanceof ScenesRefusedError) {
          process.stderr.write(`sora-series: ${err.name}: ${err.message}\n`);
          return 1;
        }
        throw err;
      } finally {
        if (connected) await (await connected.catch(() => undefined))?.close();
      }
    },
  };
}

/** A table of steering commands as the CLI's command table takes them. */
export function steeringCommands(commands: Record<string, SteeringCommand>): Record<string, CommandSpec> {
  return Object.fromEntries(Object.entries(commands).map(([name, command]) => [name, steering(command)]));
}
