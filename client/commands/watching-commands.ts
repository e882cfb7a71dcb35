import { knownGatewayUrl, reviewPageUrl } from '../gateway/review-link';
import { DEFAULT_LIST_LIMIT, ListFilterError, listSeries, seriesQuery, type ListFilter } from '../series/list';
import { positiveInt, positiveNumber } from './args';
import { ArgumentError, resolveSeriesId } from '../series/series-id';
import type { OptionValues } from './command';
import { formatTable } from './list';
import { printed, steeringCommands, stringOption } from './steering-command';
import { sceneTakes } from '../series/takes';
import { formatTakes } from './takes';
import { endedWell, watchSeries } from './watch';

/** The visibility query of the list flags; a bad filter is a usage error naming its flag. */
function listQuery(values: OptionValues): string {
  const filter: ListFilter = { status: stringOption(values, 'status'), character: stringOption(values, 'character') };
  try {
    return seriesQuery(filter);
  } catch (err) {
    if (err instanceof ListFilterError) throw new ArgumentError(`--${err.field}: ${err.problem}`);
    throw err;
  }
}

/** Watching running series and reading what they made, for the CLI's command table. */
export const WATCHING_COMMANDS = steeringCommands({
  watch: {
    summary: 'live progress per scene until the series ends',
    details:
      "A progress bar per running scene (phase, provider, take, job, upstream progress), done/total, cost and budget, pause and cancel reasons, scenes awaiting review; first the link to its review page when the gateway URL is known (SORA_SERIES_GATEWAY_URL, or the dev stack's). Redraws in place on a terminal, prints a line per change otherwise. Exit 0 when the series ends completed or completed_with_rejections, 1 otherwise.",
    args: ['id'],
    options: { interval: { type: 'string', value: 'S', help: 'seconds between looks (default 1)' } },
    async run(ctx) {
      const interval =
        ctx.values.interval === undefined ? 1 : positiveNumber('--interval', stringOption(ctx.values, 'interval')!);
      const id = resolveSeriesId(ctx.args[0]);
      const gatewayUrl = knownGatewayUrl(process.env, ctx.settings().address);
      const status = await watchSeries(await ctx.connect(), id, {
        reviewUrl: gatewayUrl && reviewPageUrl(gatewayUrl, id),
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
      limit: { type: 'string', value: 'N', help: `at most N rows (default ${DEFAULT_LIST_LIMIT})` },
    },
    async run(ctx) {
      const limit =
        ctx.values.limit === undefined
          ? DEFAULT_LIST_LIMIT
          : positiveInt('--limit', stringOption(ctx.values, 'limit')!);
      const query = listQuery(ctx.values); // before connecting: a bad filter never reaches Temporal
      const { rows, more } = await listSeries(await ctx.connect(), query, limit);
      if (ctx.json) return printed(ctx, rows, '');
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
      return printed(ctx, takes, formatTakes(takes));
    },
  },
});
