import { temporalSettings } from '../../common/temporal/settings';
import { knownGatewayUrl } from '../gateway/review-link';
import { connectClient } from '../series/connect';
import { seriesReport } from '../series/series-client';
import { specJsonSchema } from '../spec/spec-schema';
import { resolveSeriesId } from '../series/series-id';
import { JSON_OPTION, type CommandSpec } from './command';
import { cutCommand } from './cut';
import { formatReport, runSeries } from './run';
import { formatEstimate } from './validate';
import { validateSpecFile } from '../spec/validate';

/** Checking, starting and reading series. */
export const SERIES_COMMANDS: Record<string, CommandSpec> = {
  validate: {
    summary: 'check a spec and print the cost estimate per route',
    details: 'Nothing reaches Temporal. Exit 2 names every problem of the spec with its field and the fix.',
    args: ['spec'],
    options: { json: JSON_OPTION },
    async run({ args, values, print }) {
      const { input, estimate, pricesFrom } = await validateSpecFile(args[0]);
      print(
        values.json
          ? JSON.stringify({ ok: true, scenes: input.scenes.length, estimate })
          : formatEstimate(input, estimate, pricesFrom),
      );
      return 0;
    },
  },
  start: {
    summary: 'start a series from a spec, checked and estimated first',
    details:
      'A series id is used once: starting a finished series again is refused, since it would pay for every scene twice. Exit 1 when a waited series does not complete.',
    args: ['spec'],
    options: {
      id: { type: 'string', value: 'ID', help: 'the workflow id (default series/<name>)' },
      wait: { type: 'boolean', help: 'follow the series with progress lines until it ends, then print its report' },
      json: JSON_OPTION,
      'allow-budget-pause': {
        type: 'boolean',
        help: 'start even when the budget is below the estimate: the series pauses when it runs out',
      },
    },
    async run({ args, values, print }) {
      // Validate before connecting: a bad spec is refused even when Temporal is unreachable.
      const { input } = await validateSpecFile(args[0], { checkBudget: !values['allow-budget-pause'] });
      const gatewayUrl = knownGatewayUrl(process.env, temporalSettings().address);
      const { client, settings, close } = await connectClient();
      try {
        const { workflowId, report } = await runSeries(client, {
          input,
          id: values.id as string | undefined,
          wait: Boolean(values.wait),
          taskQueue: settings.taskQueue,
          progress: values.json ? undefined : print,
          gatewayUrl,
        });
        if (!report)
          print(values.json ? JSON.stringify({ id: workflowId, status: 'running' }) : `started ${workflowId}`);
        else print(values.json ? JSON.stringify(report) : formatReport(report));
        return report && report.status !== 'completed' && report.status !== 'completed_with_rejections' ? 1 : 0;
      } finally {
        await close();
      }
    },
  },
  status: {
    summary: "a series' status, cost and scenes",
    args: ['id'],
    options: { json: JSON_OPTION },
    async run({ args, values, print }) {
      const id = resolveSeriesId(args[0]);
      const { client, close } = await connectClient();
      try {
        const report = await seriesReport(client, id);
        print(values.json ? JSON.stringify(report) : formatReport(report));
        return 0;
      } finally {
        await close();
      }
    },
  },
  cut: cutCommand,
  schema: {
    summary: 'print the JSON Schema of the spec format',
    args: [],
    async run({ print }) {
      print(JSON.stringify(specJsonSchema(), null, 2));
      return 0;
    },
  },
};
