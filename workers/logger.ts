import pino, { type Logger } from 'pino';
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';

/** Paths pino blanks in every line: keys and signatures must never reach logs. */
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
  '*.headers.authorization',
  'headers["webhook-signature"]',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'sora-series',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
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
 * Routes the SDK's own logs (TS side and Rust core) into pino. Must run before any
 * connection or worker exists; later calls are no-ops.
 */
export function installRuntimeLogger(logger: Logger): void {
  if (installed) return;
  installed = true;
  const sdkLogger = logger.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => sdkLogger[levels[level]](meta ?? {}, message)),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
}
