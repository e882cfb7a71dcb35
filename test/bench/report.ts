/**
 * The bench's answer: one JSON object (the fields, all numbers; NaN becomes null with a
 * note saying why) and a table of every number beside its target from the issue, pass or miss.
 */
import { cpus } from 'node:os';

export interface BenchResults {
  latency: {
    idealSeconds: number;
    measuredSeconds: number;
    ratioToIdeal: number;
    plainScriptSeconds: number;
    speedupVsPlainScript: number;
  };
  overhead: { scenesPerSecond: number; noopScenesPerSecond: number; ratioToNoop: number };
  history: {
    eventsPerSceneShort: number;
    eventsPerSceneLong: number;
    parentEventsPerScene: number;
    parentEventsPerSceneSmall: number;
    maxEventsPerRun: number;
  };
  notice: { webhookMedianMs: number; pollingMedianMs: number; longJobSeconds: number; longJobMedianMs: number };
  upstream: { statusCallsPerJob: number; statusCallsPerJobWebhooks: number };
  memory: { inflightScenes: number; workerRssMb: number };
  recovery: { secondsToResume: number };
}

/** The fields the issue asks for, per case: what the smoke test checks. */
export const REQUIRED_FIELDS: { [K in keyof BenchResults]: Array<keyof BenchResults[K]> } = {
  latency: ['idealSeconds', 'measuredSeconds', 'ratioToIdeal', 'plainScriptSeconds', 'speedupVsPlainScript'],
  overhead: ['scenesPerSecond', 'noopScenesPerSecond', 'ratioToNoop'],
  history: [
    'eventsPerSceneShort',
    'eventsPerSceneLong',
    'parentEventsPerScene',
    'parentEventsPerSceneSmall',
    'maxEventsPerRun',
  ],
  notice: ['webhookMedianMs', 'pollingMedianMs', 'longJobSeconds', 'longJobMedianMs'],
  upstream: ['statusCallsPerJob', 'statusCallsPerJobWebhooks'],
  memory: ['inflightScenes', 'workerRssMb'],
  recovery: ['secondsToResume'],
};

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** What the targets depend on, as measured in the run (provider concurrency, poll interval, heartbeat timeout). */
export interface TargetContext {
  concurrency: number;
  /** The short notice series' job length L, seconds. */
  noticeJobSeconds: number;
  heartbeatTimeoutSeconds: number;
}

/** The notice target: within max(1 s, 5 % of the job's length). */
const noticeTargetMs = (jobSeconds: number) => Math.max(1000, 0.05 * jobSeconds * 1000);

export interface Row {
  field: string;
  value: number;
  unit: string;
  target: string;
  /** undefined: a number without a target of its own. */
  pass?: boolean;
}

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

export function rows(r: BenchResults, ctx: TargetContext): Row[] {
  const h = r.history;
  return [
    {
      field: 'latency.idealSeconds',
      value: r.latency.idealSeconds,
      unit: 's',
      target: 'character + ceil(scenes/C) x L',
    },
    { field: 'latency.measuredSeconds', value: r.latency.measuredSeconds, unit: 's', target: '' },
    {
      field: 'latency.ratioToIdeal',
      value: r.latency.ratioToIdeal,
      unit: 'x',
      target: '<= 1.07',
      pass: r.latency.ratioToIdeal <= 1.07,
    },
    { field: 'latency.plainScriptSeconds', value: r.latency.plainScriptSeconds, unit: 's', target: '' },
    {
      field: 'latency.speedupVsPlainScript',
      value: r.latency.speedupVsPlainScript,
      unit: 'x',
      target: `>= 0.95 x C = ${(0.95 * ctx.concurrency).toFixed(2)}`,
      pass: r.latency.speedupVsPlainScript >= 0.95 * ctx.concurrency,
    },
    { field: 'overhead.scenesPerSecond', value: r.overhead.scenesPerSecond, unit: '/s', target: '' },
    { field: 'overhead.noopScenesPerSecond', value: r.overhead.noopScenesPerSecond, unit: '/s', target: '' },
    {
      field: 'overhead.ratioToNoop',
      value: r.overhead.ratioToNoop,
      unit: 'x',
      target: '>= 0.80',
      pass: r.overhead.ratioToNoop >= 0.8,
    },
    {
      field: 'history.eventsPerSceneShort',
      value: h.eventsPerSceneShort,
      unit: 'events',
      target: '<= 26, = long',
      pass: h.eventsPerSceneShort <= 26 && near(h.eventsPerSceneShort, h.eventsPerSceneLong),
    },
    {
      field: 'history.eventsPerSceneLong',
      value: h.eventsPerSceneLong,
      unit: 'events',
      target: '<= 26, = short',
      pass: h.eventsPerSceneLong <= 26 && near(h.eventsPerSceneShort, h.eventsPerSceneLong),
    },
    {
      field: 'history.parentEventsPerScene',
      value: h.parentEventsPerScene,
      unit: 'events',
      target: `constant: <= 1.05 x small series (${h.parentEventsPerSceneSmall.toFixed(2)})`,
      pass: h.parentEventsPerScene <= 1.05 * h.parentEventsPerSceneSmall,
    },
    { field: 'history.parentEventsPerSceneSmall', value: h.parentEventsPerSceneSmall, unit: 'events', target: '' },
    {
      field: 'history.maxEventsPerRun',
      value: h.maxEventsPerRun,
      unit: 'events',
      target: '< 10000',
      pass: h.maxEventsPerRun < 10_000,
    },
    {
      field: 'notice.webhookMedianMs',
      value: r.notice.webhookMedianMs,
      unit: 'ms',
      target: '<= 500',
      pass: r.notice.webhookMedianMs <= 500,
    },
    {
      field: 'notice.pollingMedianMs',
      value: r.notice.pollingMedianMs,
      unit: 'ms',
      target: `<= max(1 s, 5 % of ${ctx.noticeJobSeconds} s) = ${noticeTargetMs(ctx.noticeJobSeconds)} ms`,
      pass: r.notice.pollingMedianMs <= noticeTargetMs(ctx.noticeJobSeconds),
    },
    { field: 'notice.longJobSeconds', value: r.notice.longJobSeconds, unit: 's', target: '' },
    {
      field: 'notice.longJobMedianMs',
      value: r.notice.longJobMedianMs,
      unit: 'ms',
      target: `<= max(1 s, 5 % of the job) = ${Math.round(noticeTargetMs(r.notice.longJobSeconds))} ms`,
      pass: r.notice.longJobMedianMs <= noticeTargetMs(r.notice.longJobSeconds),
    },
    {
      field: 'upstream.statusCallsPerJob',
      value: r.upstream.statusCallsPerJob,
      unit: 'calls',
      target: '<= 10',
      pass: r.upstream.statusCallsPerJob <= 10,
    },
    {
      field: 'upstream.statusCallsPerJobWebhooks',
      value: r.upstream.statusCallsPerJobWebhooks,
      unit: 'calls',
      target: '<= 2',
      pass: r.upstream.statusCallsPerJobWebhooks <= 2,
    },
    {
      field: 'memory.inflightScenes',
      value: r.memory.inflightScenes,
      unit: 'scenes',
      target: '>= 1000',
      pass: r.memory.inflightScenes >= 1000,
    },
    {
      field: 'memory.workerRssMb',
      value: r.memory.workerRssMb,
      unit: 'MB',
      target: '<= 300',
      pass: r.memory.workerRssMb <= 300,
    },
    {
      field: 'recovery.secondsToResume',
      value: r.recovery.secondsToResume,
      unit: 's',
      target: `<= heartbeat ${ctx.heartbeatTimeoutSeconds} s + 2 s`,
      pass: r.recovery.secondsToResume <= ctx.heartbeatTimeoutSeconds + 2,
    },
  ];
}

function format(value: number): string {
  if (!Number.isFinite(value)) return 'NaN';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(2);
}

export function table(list: Row[], m: Machine): string {
  const cells = list.map((r) => [
    r.field,
    `${format(r.value)} ${r.unit}`,
    r.target,
    r.pass === undefined ? '' : Number.isNaN(r.value) ? 'n/a' : r.pass ? 'pass' : 'MISS',
  ]);
  const header = ['measure', 'value', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    `machine: ${m.cores} cores, ${m.cpuModel}, node ${m.node}, ${m.platform}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n');
}

/** JSON cannot hold NaN: it becomes null (and the notes say why). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}
