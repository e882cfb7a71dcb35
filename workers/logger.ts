import pino, { type Logger } from 'pino';
import {
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type LogLevel,
  type MetricsExporterConfig,
} from '@temporalio/worker';
import { REDACTED, scrubSecrets, secretValuesFromEnv } from '../common/secrets';

/**
 * Keys and signatures must never reach logs. Three layers, because an error object can carry
 * anything (an SDK's request config, a response's headers):
 *  1. pino redaction of the usual places (`apiKey`, `headers.authorization`, `err.headers`, ...);
 *  2. error serializers (`err` and `error`) that drop headers, request configs and key-like
 *     fields at any depth, the cause chain included;
 *  3. a last pass over every finished line (common/secrets.ts) that blanks bearer tokens, `sk-...`
 *     keys and the values of the key variables this process has (provider `keyEnv`s, `*_KEY`, ...).
 */
export const REDACTED_PATHS = [
  'apiKey',
  'key',
  'secret',
  'authorization',
  '*.apiKey',
  '*.key',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  'headers["webhook-signature"]',
  'config.apiKey',
  '*.config.apiKey',
  'config.headers',
  '*.config.headers',
  'err.headers',
  'err.config',
  'err.request',
  'error.headers',
  'error.config',
  'error.request',
];

/** Field names whose values are credentials or carry them, wherever they sit in a logged error. */
const SENSITIVE_FIELD =
  /^(headers|rawHeaders|request|req|config|options|authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apiKey|secret|client[-_]?secret|password|passwd|access[-_]?token|refresh[-_]?token|bearer)$/i;

/** A copy of `value` without sensitive fields, to a bounded depth (errors may be cyclic). */
function stripSensitive(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 6) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => stripSensitive(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SENSITIVE_FIELD.test(k) ? REDACTED : stripSensitive(v, depth + 1, seen);
  return out;
}

/** pino's error serializer (message, stack, cause chain), minus anything that could hold a key. */
export function safeErrorSerializer(err: unknown): unknown {
  return stripSensitive(err instanceof Error ? pino.stdSerializers.err(err) : err);
}

export function createLogger(
  options: {
    level?: string;
    destination?: pino.DestinationStream;
    secrets?: readonly string[];
    keyEnvs?: readonly string[];
  } = {},
): Logger {
  const secrets = [...new Set([...(options.secrets ?? []), ...secretValuesFromEnv(process.env, options.keyEnvs)])];
  return pino(
    {
      name: 'sora-series',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      serializers: { err: safeErrorSerializer, error: safeErrorSerializer },
      hooks: { streamWrite: (line) => scrubSecrets(line, secrets) },
    },
    options.destination,
  );
}

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/**
 * A scene ended by a verified webhook cancels its poll, which may finish before it hears so:
 * core then warns that the activity is gone. Expected, so it is kept at debug.
 */
function isExpectedLateCompletion(message: string): boolean {
  return message.startsWith('Activity not found on completion');
}

/**
 * Routes the SDK's own logs (TS side and Rust core) into pino, and exports metrics when asked
 * (see telemetry.ts). Must run before any connection or worker exists; later calls are no-ops.
 * Throws when the metrics exporter cannot start; then nothing is installed and it may be called again.
 */
export function installRuntimeLogger(logger: Logger, metrics?: MetricsExporterConfig): void {
  if (installed) return;
  const sdkLogger = logger.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) =>
      sdkLogger[isExpectedLateCompletion(message) ? 'debug' : levels[level]](meta ?? {}, message),
    ),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(metrics ? { metrics } : {}),
    },
  });
  installed = true;
}
