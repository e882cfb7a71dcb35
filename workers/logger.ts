import pino, { type Logger } from 'pino';
import {
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type LogLevel,
  type MetricsExporterConfig,
} from '@temporalio/worker';

/**
 * Keys and signatures must never reach logs. Three layers, because an error object can carry
 * anything (an SDK's request config, a response's headers):
 *  1. pino redaction of the usual places (`apiKey`, `headers.authorization`, `err.headers`, ...);
 *  2. error serializers (`err` and `error`) that drop headers, request configs and key-like
 *     fields at any depth, the cause chain included;
 *  3. a last pass over every finished line that blanks bearer tokens, `sk-...` keys and the
 *     values of the key variables this process has (provider `keyEnv`s, `*_KEY`, `*_TOKEN`, ...).
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

const CENSOR = '[redacted]';

/** Field names whose values are credentials or carry them, wherever they sit in a logged error. */
const SENSITIVE_FIELD =
  /^(headers|rawHeaders|request|req|config|options|authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apiKey|secret|client[-_]?secret|password|passwd|access[-_]?token|refresh[-_]?token|bearer)$/i;

/** Environment variables that hold credentials, by name. */
const SECRET_ENV_NAME = /(^|_)(API_?KEYS?|KEYS?|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)($|_)/i;
/** Shorter values would blank ordinary words. */
const MIN_SECRET_LENGTH = 8;

/**
 * Values to blank from every line: variables named like keys, plus the named ones (each
 * provider's `keyEnv`: a config may name its key variable anything).
 */
export function secretValuesFromEnv(env: NodeJS.ProcessEnv = process.env, keyEnvs: readonly string[] = []): string[] {
  const names = new Set([...Object.keys(env).filter((n) => SECRET_ENV_NAME.test(n)), ...keyEnvs]);
  return [...names].map((n) => env[n]?.trim() ?? '').filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** Blanks bearer tokens, `sk-` keys and the given values (also as they appear JSON-escaped). */
export function scrubLine(line: string, secrets: readonly string[] = []): string {
  let out = line;
  for (const secret of secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (out.includes(form)) out = out.split(form).join(CENSOR);
    }
  }
  return out
    .replace(/(Bearer|Basic)\s+[^\s"\\,;]+/gi, `$1 ${CENSOR}`)
    .replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, `sk-${CENSOR}`);
}

/** A copy of `value` without sensitive fields, to a bounded depth (errors may be cyclic). */
function stripSensitive(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 6) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => stripSensitive(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SENSITIVE_FIELD.test(k) ? CENSOR : stripSensitive(v, depth + 1, seen);
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
  const secrets = [...new Set([...(options.secrets ?? []), ...secretValuesFromEnv(process.env, options.keyEnvs)])].sort(
    (a, b) => b.length - a.length,
  );
  return pino(
    {
      name: 'sora-series',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: CENSOR },
      serializers: { err: safeErrorSerializer, error: safeErrorSerializer },
      hooks: { streamWrite: (line) => scrubLine(line, secrets) },
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
 * Routes the SDK's own logs (TS side and Rust core) into pino, and exports metrics when asked
 * (see telemetry.ts). Must run before any connection or worker exists; later calls are no-ops.
 * Throws when the metrics exporter cannot start; then nothing is installed and it may be called again.
 */
export function installRuntimeLogger(logger: Logger, metrics?: MetricsExporterConfig): void {
  if (installed) return;
  const sdkLogger = logger.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => sdkLogger[levels[level]](meta ?? {}, message)),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(metrics ? { metrics } : {}),
    },
  });
  installed = true;
}
