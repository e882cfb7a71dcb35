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
import { MAX_REVIEW_NOTE_CHARS } from '../../workflows/scene-rules';
import { ArgumentError, positiveInt, positiveNumber, readScenesFile, resolveSeriesId, routingPolicy } from './args';
import type { CommandInput, CommandSpec, OptionSpec, OptionValues } from './command';
import { formatTable } from './list';
import { ListFilterError, listSeries, seriesQuery, type ListFilter } from '../series/list';
import { appendToSeries, formatAppended, signalSent } from './steer';
import { formatTakes, sceneTakes } from './takes';
import { validateSpecFile } from '../spec/validate';
import { endedWell, watchSeries } from './watch';

/**
 * The commands that watch and steer running series. Exit codes: 0 done, 1 refused by the series
 * (its words are printed) or a watched series that did not complete, 2 usage (thrown, printed by
 * cli.ts).
 */

type Values = OptionValues;

interface Context {
  /** Connects on first use: arguments are checked before Temporal is reached. */
  connect(): Promise<Client>;
  settings(): TemporalSettings;
  values: Values;
  args: string[];
  json: boolean;
  print: (text: string) => void;
}

/** A steering command: a {@link CommandSpec} whose run gets a lazily connected client. */
type Command = Omit<CommandSpec, 'run'> & { run(ctx: Context): Promise<number> };

const str = (v: Values, name: string) => v[name] as string | undefined;
const done = (ctx: Context, json: unknown, text: string) => {
  ctx.print(ctx.json ? JSON.stringify(json) : text);
  return 0;
};

const COMMANDS: Record<string, Command> = {
  watch: {
    summary: 'live progress per scene until the series ends',
    details:
      'A progress bar per running scene (phase, provider, take, job, upstream progress), done/total, cost and budget, pause and cancel reasons, scenes awaiting review. Redraws in place on a terminal, prints a line per change otherwise. Exit 0 when the series ends completed or completed_with_rejections, 1 otherwise.',
    args: ['id'],
    options: { interval: { type: 'string', value: 'S', help: 'seconds between looks (default 1)' } },
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
    summary: 'series by status and character',
    details: 'One row per series: id, status, done/total, cost, character, providers used, start time.',
    args: [],
    options: {
      status: { type: 'string', value: 'S', help: 'only series in this status (running, paused, completed, ...)' },
      character: { type: 'string', value: 'NAME', help: 'only series with this character' },
      limit: { type: 'string', value: 'N', help: 'at most N rows (default 200)' },
    },
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
    summary: 'every take of a scene: provider, job, outcome, cost, asset, review',
    args: ['id', 'scene'],
    async run(ctx) {
      const [id, index] = [resolveSeriesId(ctx.args[0]), positiveInt('<scene>', ctx.args[1])];
      const takes = await sceneTakes(await ctx.connect(), id, index);
      return done(ctx, takes, formatTakes(takes));
    },
  },
  pause: {
    summary: 'start no new scenes or takes until resumed; running jobs go on',
    args: ['id'],
    options: { reason: { type: 'string', value: 'R', help: 'why, shown by watch' } },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await pauseSeries(await ctx.connect(), id, str(ctx.values, 'reason'));
      return done(ctx, { id, sent: 'pause' }, signalSent('pause', id));
    },
  },
  resume: {
    summary: 'undo pause',
    args: ['id'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await resumeSeries(await ctx.connect(), id);
      return done(ctx, { id, sent: 'resume' }, signalSent('resume', id));
    },
  },
  cancel: {
    summary: 'stop gracefully: nothing new is submitted, running jobs finish and are paid',
    details: 'The series ends cancelled once its running jobs are stored.',
    args: ['id'],
    options: { reason: { type: 'string', value: 'R', help: 'why, shown by watch' } },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await cancelSeries(await ctx.connect(), id, str(ctx.values, 'reason'));
      return done(ctx, { id, sent: 'cancel' }, signalSent('cancel', id));
    },
  },
  'add-scenes': {
    summary: 'add scenes to a running series; prints their indexes',
    args: ['id', 'scenes file'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const scenes = await readScenesFile(ctx.args[1]);
      const { indexes } = await addScenes(await ctx.connect(), id, scenes);
      return done(ctx, { id, indexes }, `added to ${id}: scene ${indexes.join(', ')}`);
    },
  },
  append: {
    summary: 'append scenes, starting the series (streaming) from the spec if it does not run',
    details: 'Signal-with-start: one call whether or not the series runs. A series that already ended is refused.',
    args: ['spec', 'scenes file'],
    options: { id: { type: 'string', value: 'ID', help: 'the workflow id (default series/<name of the spec>)' } },
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
    summary: 'a streaming series gets no more scenes: it ends when they are done',
    args: ['id'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await endOfScenes(await ctx.connect(), id);
      return done(ctx, { id, sent: 'endOfScenes' }, signalSent('endOfScenes', id));
    },
  },
  retry: {
    summary: 'a new take of a finished scene; earlier takes are kept',
    args: ['id', 'scene'],
    options: {
      prompt: { type: 'string', value: 'P', help: 'a new prompt for this take' },
      provider: { type: 'string', value: 'NAME', help: 'the provider for this take' },
    },
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
    summary: 'the routing policy for scenes not yet started; prints the previous one',
    args: ['id', 'policy'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const policy = routingPolicy(ctx.args[1]);
      const answer = await setRouting(await ctx.connect(), id, policy);
      return done(ctx, { id, ...answer }, `routing of ${id}: ${answer.routing} (was ${answer.previous})`);
    },
  },
  budget: {
    summary: 'raise the budget; a series paused by its budget goes on',
    args: ['id', 'usd'],
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

function review(verdict: 'approve' | 'reject', summary: string): Command {
  return {
    summary,
    args: ['id', 'scene', 'take'],
    options: {
      note: {
        type: 'string',
        value: 'N',
        help: `a review note, kept with the take (up to ${MAX_REVIEW_NOTE_CHARS} characters)`,
      },
    },
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

const JSON_OPTION: OptionSpec = { type: 'boolean', help: 'print JSON instead of text' };

/**
 * A steering command as the CLI runs it: it connects on first use (arguments are checked first),
 * and a refusal by the series exits 1 with the series' own words.
 */
function steering(command: Command): CommandSpec {
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

/** Watching and steering running series, for the CLI's command table. */
export const STEERING_COMMANDS: Record<string, CommandSpec> = Object.fromEntries(
  Object.entries(COMMANDS).map(([name, command]) => [name, steering(command)]),
);
