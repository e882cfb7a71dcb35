import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Client } from '@temporalio/client';
import { connectClient, type ConnectedClient } from '../series/connect';
import {
  addScenes,
  cancelSeries,
  endOfScenes,
  MessageRefusedError,
  pauseSeries,
  raiseBudget,
  resumeSeries,
  retryScene,
  reviewTake,
  ScenesRefusedError,
  setRouting,
} from '../series/steering';
import { temporalSettings, type TemporalSettings } from '../../common/temporal/settings';
import { ArgumentError, positiveInt, positiveNumber, readScenesFile, resolveSeriesId, routingPolicy } from './args';
import { formatTable } from './list';
import { ListFilterError, listSeries, seriesQuery, type ListFilter } from '../series/list';
import { appendToSeries, formatAppended, signalSent } from './steer';
import { formatTakes, sceneTakes } from './takes';
import { validateSpecFile } from '../spec/validate';
import { endedWell, watchSeries } from './watch';

/**
 * The commands that watch and steer running series. Each parses its own arguments, so cli.ts
 * only routes to them. Exit codes: 0 done, 1 refused by the series (its words are printed) or a
 * watched series that did not complete, 2 usage (thrown, printed by cli.ts).
 */

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Context {
  /** Connects on first use: arguments are checked before Temporal is reached. */
  connect(): Promise<Client>;
  settings(): TemporalSettings;
  values: Values;
  args: string[];
  json: boolean;
  print: (text: string) => void;
}

interface Command {
  /** The command line, without `sora-series`. */
  usage: string;
  does: string;
  /** Names of the positional arguments, all required. */
  positionals: string[];
  options?: Options;
  run(ctx: Context): Promise<number>;
}

const str = (v: Values, name: string) => v[name] as string | undefined;
const done = (ctx: Context, json: unknown, text: string) => {
  ctx.print(ctx.json ? JSON.stringify(json) : text);
  return 0;
};

const COMMANDS: Record<string, Command> = {
  watch: {
    usage: 'watch <id> [--interval S] [--json]',
    does: 'live progress per scene until the series ends (exit 0 if it completed)',
    positionals: ['id'],
    options: { interval: { type: 'string' } },
    async run(ctx) {
      const interval =
        ctx.values.interval === undefined ? 1 : positiveNumber('--interval', str(ctx.values, 'interval')!);
      const id = resolveSeriesId(ctx.args[0]);
      const status = await watchSeries(await ctx.connect(), id, {
        intervalMs: interval * 1000,
        json: ctx.json,
        tty: Boolean(process.stdout.isTTY),
        columns: process.stdout.columns,
        write: (text) => process.stdout.write(text),
      });
      return endedWell(status) ? 0 : 1;
    },
  },
  list: {
    usage: 'list [--status S] [--character NAME] [--limit N] [--json]',
    does: 'series by status and character',
    positionals: [],
    options: { status: { type: 'string' }, character: { type: 'string' }, limit: { type: 'string' } },
    async run(ctx) {
      const limit = ctx.values.limit === undefined ? 200 : positiveInt('--limit', str(ctx.values, 'limit')!);
      const query = listQuery(ctx.values); // before connecting: a bad filter never reaches Temporal
      const { rows, more } = await listSeries(await ctx.connect(), query, limit);
      if (ctx.json) return done(ctx, rows, '');
      ctx.print(rows.length ? formatTable(rows) : 'no series match');
      if (more) ctx.print(`(first ${limit} shown; narrow with --status or --character, or raise --limit)`);
      return 0;
    },
  },
  takes: {
    usage: 'takes <id> <scene> [--json]',
    does: 'every take of a scene: provider, job, outcome, cost, asset, review',
    positionals: ['id', 'scene'],
    async run(ctx) {
      const [id, index] = [resolveSeriesId(ctx.args[0]), positiveInt('<scene>', ctx.args[1])];
      const takes = await sceneTakes(await ctx.connect(), id, index);
      return done(ctx, takes, formatTakes(takes));
    },
  },
  pause: {
    usage: 'pause <id> [--reason R]',
    does: 'start no new scenes or takes',
    positionals: ['id'],
    options: { reason: { type: 'string' } },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await pauseSeries(await ctx.connect(), id, str(ctx.values, 'reason'));
      return done(ctx, { id, sent: 'pause' }, signalSent('pause', id));
    },
  },
  resume: {
    usage: 'resume <id>',
    does: 'undoes pause',
    positionals: ['id'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await resumeSeries(await ctx.connect(), id);
      return done(ctx, { id, sent: 'resume' }, signalSent('resume', id));
    },
  },
  cancel: {
    usage: 'cancel <id> [--reason R]',
    does: 'graceful: running jobs finish and are paid, the series ends cancelled',
    positionals: ['id'],
    options: { reason: { type: 'string' } },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await cancelSeries(await ctx.connect(), id, str(ctx.values, 'reason'));
      return done(ctx, { id, sent: 'cancel' }, signalSent('cancel', id));
    },
  },
  'add-scenes': {
    usage: 'add-scenes <id> <scenes.yaml|json>',
    does: 'adds [{prompt, seconds?, size?, model?, provider?}]; prints the new indexes',
    positionals: ['id', 'scenes file'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const scenes = await readScenesFile(ctx.args[1]);
      const { indexes } = await addScenes(await ctx.connect(), id, scenes);
      return done(ctx, { id, indexes }, `added to ${id}: scene ${indexes.join(', ')}`);
    },
  },
  append: {
    usage: 'append <spec> <scenes file> [--id ID]',
    does: 'appends scenes, starting the series from the spec (streaming) if it does not run',
    positionals: ['spec', 'scenes file'],
    options: { id: { type: 'string' } },
    async run(ctx) {
      const { input, profiles } = await validateSpecFile(ctx.args[0]);
      const scenes = await readScenesFile(ctx.args[1]);
      const id = ctx.values.id === undefined ? undefined : resolveSeriesId(str(ctx.values, 'id')!);
      const client = await ctx.connect();
      const appended = await appendToSeries(client, {
        input,
        scenes,
        taskQueue: ctx.settings().taskQueue,
        workflowId: id,
        profiles,
      });
      return done(ctx, appended, formatAppended(appended));
    },
  },
  'end-scenes': {
    usage: 'end-scenes <id>',
    does: 'a streaming series gets no more scenes: it ends when they are done',
    positionals: ['id'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await endOfScenes(await ctx.connect(), id);
      return done(ctx, { id, sent: 'endOfScenes' }, signalSent('endOfScenes', id));
    },
  },
  retry: {
    usage: 'retry <id> <scene> [--prompt P] [--provider NAME]',
    does: 'a new take of a finished scene',
    positionals: ['id', 'scene'],
    options: { prompt: { type: 'string' }, provider: { type: 'string' } },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const [index, prompt, provider] = [
        positiveInt('<scene>', ctx.args[1]),
        str(ctx.values, 'prompt'),
        str(ctx.values, 'provider'),
      ];
      const answer = await retryScene(await ctx.connect(), id, {
        index,
        ...(prompt !== undefined ? { prompt } : {}),
        ...(provider !== undefined ? { provider } : {}),
      });
      return done(ctx, { id, ...answer }, `scene ${answer.index} of ${id} queued for a new take`);
    },
  },
  approve: review('approve', 'approve a completed take'),
  reject: review('reject', 'reject a completed take (retry the scene for another)'),
  routing: {
    usage: 'routing <id> <character|cost|stability>',
    does: 'routing policy for scenes not yet started',
    positionals: ['id', 'policy'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const policy = routingPolicy(ctx.args[1]);
      const answer = await setRouting(await ctx.connect(), id, policy);
      return done(ctx, { id, ...answer }, `routing of ${id}: ${answer.routing} (was ${answer.previous})`);
    },
  },
  budget: {
    usage: 'budget <id> <usd>',
    does: 'a higher budget; a series paused by its budget goes on',
    positionals: ['id', 'usd'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const budgetUsd = positiveNumber('<usd>', ctx.args[1]);
      const view = await raiseBudget(await ctx.connect(), id, budgetUsd);
      const usd = (n?: number) => (n === undefined ? '-' : `$${n.toFixed(2)}`);
      return done(
        ctx,
        { id, ...view },
        `budget of ${id}: ${usd(view.budgetUsd)} (spent ${usd(view.spentUsd)}, reserved ${usd(view.reservedUsd)}, remaining ${usd(view.remainingUsd)})`,
      );
    },
  },
};

/** The visibility query of the list flags; a bad filter is a usage error naming its flag. */
function listQuery(values: Values): string {
  const filter: ListFilter = { status: str(values, 'status'), character: str(values, 'character') };
  try {
    return seriesQuery(filter);
  } catch (err) {
    if (err instanceof ListFilterError) throw new ArgumentError(`--${err.field}: ${err.problem}`);
    throw err;
  }
}

function review(verdict: 'approve' | 'reject', does: string): Command {
  return {
    usage: `${verdict} <id> <scene> <take> [--note N]`,
    does,
    positionals: ['id', 'scene', 'take'],
    options: { note: { type: 'string' } },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const [index, take, note] = [
        positiveInt('<scene>', ctx.args[1]),
        positiveInt('<take>', ctx.args[2]),
        str(ctx.values, 'note'),
      ];
      const answer = await reviewTake(await ctx.connect(), id, {
        index,
        take,
        verdict,
        ...(note !== undefined ? { note } : {}),
      });
      return done(
        ctx,
        { id, ...answer },
        `scene ${answer.index} take ${answer.take} of ${id}: ${answer.verdict === 'approve' ? 'approved' : 'rejected'}`,
      );
    },
  };
}

export const STEERING_COMMANDS = Object.keys(COMMANDS);

/** Usage lines for cli.ts's help. */
export const STEERING_USAGE = Object.values(COMMANDS)
  .map((c) => {
    const line = `  sora-series ${c.usage}`;
    if (!c.does) return line;
    // Descriptions start in one column; a long command line puts its description below.
    return line.length < 58 ? `${line.padEnd(58)}${c.does}` : `${line}\n${' '.repeat(58)}${c.does}`;
  })
  .join('\n');

/** Runs one watch/steering command; returns the exit code. Usage errors are thrown (exit 2). */
export async function runSteering(name: string, argv: string[], print: (text: string) => void): Promise<number> {
  const command = COMMANDS[name];
  const usageOf = `usage: sora-series ${command.usage}`;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, ...command.options },
    });
  } catch (err) {
    throw new ArgumentError(`${name}: ${(err as Error).message}\n${usageOf}`);
  }
  const { values, positionals } = parsed;
  const missing = command.positionals.slice(positionals.length);
  if (missing.length) throw new ArgumentError(`${name}: missing <${missing[0]}>\n${usageOf}`);
  if (positionals.length > command.positionals.length)
    throw new ArgumentError(`${name}: unexpected argument "${positionals[command.positionals.length]}"\n${usageOf}`);

  let connected: Promise<ConnectedClient> | undefined;
  const settings = () => temporalSettings();
  const connect = async () => (await (connected ??= connectClient())).client;
  try {
    return await command.run({
      connect,
      settings,
      values: values as Values,
      args: positionals,
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
}
