#!/usr/bin/env node
/**
 * `npm run bench` (table) and `npm run bench -- --json` (one JSON object on stdout; progress and
 * the table go to stderr). Starts its own stack: a Temporal dev server on SQLite in a temp folder,
 * one simulator per case, the product's worker as separate processes and a no-op worker, then runs
 * every case one after the other in this one run.
 *
 *   --smoke                 tiny sizes, every code path in well under a minute (the smoke test)
 *   --temporal-address A    use a running Temporal frontend instead of starting a dev server
 *   --cases a,b             only these cases (latency, history, overhead, notice, memory, recovery)
 *   --out FILE              also write the JSON object to FILE
 *   --keep                  keep the temp folder (Temporal log, worker logs, data) and print where
 *   --skip-plain            latency without the plain script (profiling runs; its fields are then NaN)
 *   --without-shared-limits experiment: stop the provider-slots limiters the workers start, so series
 *                           fall back to their own windows (shows what the shared limit costs; not the product)
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { FULL, latencyPollMs, PRODUCT_DEFAULT_POLL_MS, SMOKE, type BenchConfig } from './config';
import { historyCase, HISTORY_PROVIDERS, HISTORY_SIMULATORS } from './cases/history';
import { latencyCase, LATENCY_PROVIDER, LATENCY_SIMULATOR, PLAIN_SIMULATOR } from './cases/latency';
import { memoryCase, MEMORY_PROVIDER, MEMORY_SDK_CACHE_ROLE, MEMORY_SIMULATOR } from './cases/memory';
import { noticeCase, NOTICE_PROVIDERS, NOTICE_SIMULATORS } from './cases/notice';
import { overheadCase, OVERHEAD_PROVIDER, OVERHEAD_SIMULATOR } from './cases/overhead';
import { recoveryCase, RECOVERY_PROVIDER, RECOVERY_SIMULATOR } from './cases/recovery';
import { machine, rows, table, toJson, type BenchResults } from './report';
import { startBenchStack, type BenchStack, type SimulatorPlan, type StackOptions } from './stack';

const CASES = ['latency', 'history', 'overhead', 'notice', 'memory', 'recovery'] as const;
type CaseName = (typeof CASES)[number];

/** Worker roles each case needs. */
const ROLES: Record<CaseName, string[]> = {
  latency: ['latency'],
  history: ['history'],
  overhead: ['overhead', 'noop'],
  notice: ['notice-polling', 'notice-webhook'],
  memory: ['memory', MEMORY_SDK_CACHE_ROLE],
  recovery: ['recovery'],
};

interface Args {
  json: boolean;
  smoke: boolean;
  temporalAddress?: string;
  cases: CaseName[];
  keep: boolean;
  skipPlain: boolean;
  withoutSharedLimits: boolean;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    json: false,
    smoke: false,
    cases: [...CASES],
    keep: false,
    skipPlain: false,
    withoutSharedLimits: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') args.json = true;
    else if (arg === '--smoke') args.smoke = true;
    else if (arg === '--keep') args.keep = true;
    else if (arg === '--out') args.out = argv[++i];
    else if (arg === '--skip-plain') args.skipPlain = true;
    else if (arg === '--without-shared-limits') args.withoutSharedLimits = true;
    else if (arg === '--temporal-address') args.temporalAddress = argv[++i];
    else if (arg === '--cases') {
      const wanted = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = wanted.filter((c) => !(CASES as readonly string[]).includes(c));
      if (unknown.length || !wanted.length)
        throw new Error(
          `--cases: give some of ${CASES.join(',')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
        );
      args.cases = CASES.filter((c) => wanted.includes(c));
    } else
      throw new Error(
        `unknown argument ${arg}; use --json, --out FILE, --smoke, --keep, --skip-plain, --without-shared-limits, --temporal-address HOST:PORT, --cases ${CASES.join(',')}`,
      );
  }
  return args;
}

function simulatorPlans(c: BenchConfig): SimulatorPlan[] {
  const steady = { seed: c.seed, jitter: 0 };
  return [
    {
      name: LATENCY_SIMULATOR,
      options: { seed: c.seed, jobSeconds: c.latency.jobSeconds, jitter: c.latency.jitter },
      provider: {
        name: LATENCY_PROVIDER,
        contract: 'relay-v1',
        maxConcurrency: c.latency.concurrency,
        expectedJobSeconds: c.latency.jobSeconds,
      },
    },
    // Same seed and settings: the plain script draws exactly the job durations the series draws.
    { name: PLAIN_SIMULATOR, options: { seed: c.seed, jobSeconds: c.latency.jobSeconds, jitter: c.latency.jitter } },
    {
      name: OVERHEAD_SIMULATOR,
      options: { ...steady, jobSeconds: 0 },
      provider: {
        name: OVERHEAD_PROVIDER,
        contract: 'relay-v1',
        maxConcurrency: c.overhead.concurrency * c.overhead.series,
        expectedJobSeconds: 0.01, // an instant upstream: checked at once
      },
    },
    {
      name: HISTORY_SIMULATORS.short,
      options: { ...steady, jobSeconds: c.history.shortSeconds },
      provider: {
        name: HISTORY_PROVIDERS.short,
        contract: 'relay-v1',
        maxConcurrency: 4,
        expectedJobSeconds: c.history.shortSeconds,
      },
    },
    {
      name: HISTORY_SIMULATORS.long,
      options: { ...steady, jobSeconds: c.history.longSeconds },
      provider: {
        name: HISTORY_PROVIDERS.long,
        contract: 'relay-v1',
        maxConcurrency: 4,
        expectedJobSeconds: c.history.longSeconds,
      },
    },
    {
      name: HISTORY_SIMULATORS.bulk,
      options: { ...steady, jobSeconds: 0 },
      provider: {
        name: HISTORY_PROVIDERS.bulk,
        contract: 'relay-v1',
        maxConcurrency: c.history.largeConcurrency,
        expectedJobSeconds: 0.01,
      },
    },
    {
      name: NOTICE_SIMULATORS.polled,
      options: { seed: c.seed, jobSeconds: c.notice.jobSeconds, jitter: c.notice.jitter },
      provider: {
        name: NOTICE_PROVIDERS.polled,
        contract: 'official',
        maxConcurrency: c.notice.concurrency,
        expectedJobSeconds: c.notice.jobSeconds,
      },
    },
    {
      name: NOTICE_SIMULATORS.webhook,
      options: { seed: c.seed, jobSeconds: c.notice.jobSeconds, jitter: c.notice.jitter },
      provider: {
        name: NOTICE_PROVIDERS.webhook,
        contract: 'official',
        maxConcurrency: c.notice.concurrency,
        expectedJobSeconds: c.notice.jobSeconds,
        webhooks: true,
      },
    },
    {
      name: NOTICE_SIMULATORS.long,
      options: { seed: c.seed, jobSeconds: c.notice.longJobSeconds, jitter: c.notice.longJitter },
      provider: {
        name: NOTICE_PROVIDERS.long,
        contract: 'official',
        maxConcurrency: c.notice.longScenes,
        expectedJobSeconds: c.notice.longJobSeconds,
      },
    },
    {
      name: MEMORY_SIMULATOR,
      options: { ...steady, jobSeconds: 3600 },
      provider: {
        name: MEMORY_PROVIDER,
        contract: 'relay-v1',
        maxConcurrency: c.memory.scenesPerSeries * c.memory.series,
        expectedJobSeconds: c.memory.expectedJobSeconds,
      },
    },
    {
      name: RECOVERY_SIMULATOR,
      options: { seed: c.seed, jobSeconds: c.recovery.jobSeconds, jitter: 0.1 },
      provider: {
        name: RECOVERY_PROVIDER,
        contract: 'relay-v1',
        maxConcurrency: c.recovery.scenes,
        expectedJobSeconds: c.recovery.jobSeconds,
      },
    },
  ];
}

/** The worker's workflow cache as the SDK sizes it, for the side-by-side memory run. */
const SDK_CACHE = { SORA_SERIES_MAX_CACHED_WORKFLOWS: 'sdk' };

/**
 * Worker processes by role. The full run gives each case the worker settings it is about (the
 * latency case a poll interval scaled like L, the webhook case polling so rarely that only the
 * webhook can be first); the smoke run shares one product worker for the rest to stay quick.
 */
function workerPlans(c: BenchConfig, roles: Set<string>): StackOptions['workers'] {
  const plans: StackOptions['workers'] = c.smoke
    ? [
        {
          name: 'product',
          pollMs: c.notice.pollMs,
          roles: ['latency', 'history', 'overhead', 'notice-polling', 'memory', 'recovery'],
        },
        { name: 'webhook', pollMs: c.notice.webhookWorkerPollMs, roles: ['notice-webhook'] },
        { name: 'noop', pollMs: 0, noop: true, roles: ['noop'] },
        { name: 'sdk-cache', pollMs: c.notice.pollMs, roles: [MEMORY_SDK_CACHE_ROLE], env: SDK_CACHE },
      ]
    : [
        { name: 'latency', pollMs: latencyPollMs(c), roles: ['latency'] },
        { name: 'main', pollMs: PRODUCT_DEFAULT_POLL_MS, roles: ['history', 'overhead', 'notice-polling', 'recovery'] },
        { name: 'webhook', pollMs: c.notice.webhookWorkerPollMs, roles: ['notice-webhook'] },
        { name: 'memory', pollMs: PRODUCT_DEFAULT_POLL_MS, roles: ['memory'] },
        { name: 'memory-sdk-cache', pollMs: PRODUCT_DEFAULT_POLL_MS, roles: [MEMORY_SDK_CACHE_ROLE], env: SDK_CACHE },
        { name: 'noop', pollMs: 0, noop: true, roles: ['noop'] },
      ];
  return plans.map((p) => ({ ...p, roles: p.roles.filter((r) => roles.has(r)) })).filter((p) => p.roles.length > 0);
}

const nanCase = <T extends object>(fields: readonly string[]) => Object.fromEntries(fields.map((f) => [f, NaN])) as T;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const config = args.smoke ? SMOKE : FULL;
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const started = performance.now();
  const loadAtStart = loadavg()[0];
  const roles = new Set(args.cases.flatMap((c) => ROLES[c]));

  const results: BenchResults = {
    latency: nanCase(['idealSeconds', 'measuredSeconds', 'ratioToIdeal', 'plainScriptSeconds', 'speedupVsPlainScript']),
    overhead: nanCase(['scenesPerSecond', 'noopScenesPerSecond', 'ratioToNoop']),
    history: nanCase([
      'eventsPerSceneShort',
      'eventsPerSceneLong',
      'parentEventsPerScene',
      'parentEventsPerSceneSmall',
      'maxEventsPerRun',
    ]),
    notice: nanCase(['webhookMedianMs', 'pollingMedianMs', 'longJobSeconds', 'longJobMedianMs']),
    upstream: nanCase(['statusCallsPerJob', 'statusCallsPerJobWebhooks']),
    memory: nanCase(['inflightScenes', 'workerRssMb']),
    recovery: nanCase(['secondsToResume']),
  };
  const details: Record<string, Record<string, number>> = {};
  const notes: string[] = [];
  let failed = false;

  const stack: BenchStack = await startBenchStack({
    temporalAddress: args.temporalAddress,
    simulators: simulatorPlans(config),
    workers: workerPlans(config, roles),
    log,
    keep: args.keep,
  });
  const workerStarts: Record<string, number> = {};
  try {
    if (args.withoutSharedLimits) {
      await stack.stopSharedLimits();
      notes.push(
        'EXPERIMENT --without-shared-limits: provider-slots limiters stopped, series used their own windows only; not the product as shipped',
      );
    }
    for (const name of new Set([...roles].map((r) => stack.worker(r))))
      workerStarts[name.name] = (name.startMs ?? NaN) / 1000;
    details.workerStartSeconds = workerStarts;
    const run = async <K extends CaseName>(
      name: K,
      body: () => Promise<{ result: BenchResults[K]; info: Record<string, number>; notes?: string[] }>,
    ) => {
      if (!args.cases.includes(name as CaseName)) {
        notes.push(`${name}: not run (--cases)`);
        return;
      }
      const t = performance.now();
      log(`case ${name} ...`);
      try {
        const { result, info, notes: caseNotes } = await body();
        results[name] = result;
        details[name] = info;
        notes.push(...(caseNotes ?? []));
        log(`case ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s: ${JSON.stringify(result)}`);
      } catch (err) {
        failed = true;
        notes.push(`${name}: failed: ${(err as Error).message}`);
        log(`case ${name} FAILED: ${(err as Error).stack ?? err}`);
      }
    };
    await run('latency', () => latencyCase(stack, config, { plain: !args.skipPlain }));
    await run('history', () => historyCase(stack, config));
    await run('overhead', () => overheadCase(stack, config));
    await run('notice', async () => {
      const { result, info } = await noticeCase(stack, config);
      const { upstream, ...notice } = result;
      results.upstream = upstream;
      return { result: notice, info };
    });
    await run('memory', async () => {
      // The shipped worker, then the same with the SDK's cache size: side by side, one at a time.
      const measure = async (role: string) => {
        try {
          return await memoryCase(stack, config, role);
        } finally {
          // Its terminated scenes linger until their next task: free the CPU for the next run.
          const memory = stack.worker(role);
          if (!args.cases.includes('recovery') || memory !== stack.worker('recovery')) await memory.stop();
        }
      };
      const shipped = await measure('memory');
      const sdk = await measure(MEMORY_SDK_CACHE_ROLE);
      return {
        result: shipped.result,
        info: {
          ...shipped.info,
          sdkCacheInflightScenes: sdk.result.inflightScenes,
          sdkCacheWorkerRssMb: sdk.result.workerRssMb,
          sdkCacheRampSeconds: sdk.info.rampSeconds,
        },
        notes: [...shipped.notes, ...sdk.notes],
      };
    });
    await run('recovery', () => recoveryCase(stack, config));
  } finally {
    await stack.stop();
  }

  const m = machine();
  const ctx = {
    concurrency: config.latency.concurrency,
    noticeJobSeconds: config.notice.jobSeconds,
    heartbeatTimeoutSeconds: details.recovery?.heartbeatTimeoutSeconds ?? NaN,
  };
  const report = table(rows(results, ctx), m);
  const seconds = (performance.now() - started) / 1000;
  const document = {
    ...results,
    machine: { ...m, loadAverage1mAtStart: loadAtStart, loadAverage1mAtEnd: loadavg()[0] },
    mode: config.smoke ? 'smoke' : 'full',
    seconds,
    details,
    notes,
  };
  if (args.out) writeFileSync(args.out, `${toJson(document)}\n`);
  if (args.json) {
    process.stderr.write(`${report}\n`);
    out(toJson(document));
  } else {
    out(report);
    for (const [name, values] of Object.entries(details)) {
      out(
        `${name}: ${Object.entries(values)
          .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`)
          .join(' ')}`,
      );
    }
    for (const note of notes) out(`note: ${note}`);
    out(`(${config.smoke ? 'smoke' : 'full'} run, ${seconds.toFixed(0)} s; --json for the JSON object)`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(2);
  },
);
