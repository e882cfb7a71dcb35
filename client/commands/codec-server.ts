import { z } from 'zod';
import { encryptionCodecFromEnv } from '../../common/codec/data-converter';
import { CODEC_KEYS_ENV, CodecKeysError } from '../../common/codec/keys';
import { startCodecServer, type RunningCodecServer } from '../codec-server/server';
import { portOption, type CommandSpec } from './command';

export const DEFAULT_CODEC_PORT = 8081;

/** Variables `sora-series codec-server` reads besides the keys. */
export const CODEC_SERVER_ENV = {
  host: 'SORA_SERIES_CODEC_HOST',
  corsOrigins: 'SORA_SERIES_CODEC_CORS_ORIGINS',
  authToken: 'SORA_SERIES_CODEC_AUTH_TOKEN',
} as const;

export class CodecServerSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecServerSettingsError';
  }
}

const origin = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return /^https?:$/.test(url.protocol) && url.origin === v;
  } catch {
    return false;
  }
}, 'must be an origin like http://localhost:8080 (scheme, host, port; no path or trailing slash)');

const envSchema = z.object({
  [CODEC_SERVER_ENV.host]: z.string().trim().min(1).default('127.0.0.1'),
  [CODEC_SERVER_ENV.corsOrigins]: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(origin)),
  [CODEC_SERVER_ENV.authToken]: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
});

/** Starts the codec endpoint from the environment; the keys are the worker's (SORA_SERIES_CODEC_KEYS). */
export async function startCodecServerFromEnv(
  port: number,
  env: NodeJS.ProcessEnv = process.env,
  log?: (line: string) => void,
): Promise<RunningCodecServer & { summary: string }> {
  const codec = encryptionCodecFromEnv(env);
  if (!codec)
    throw new CodecKeysError(
      `${CODEC_KEYS_ENV}: not set; the codec server decodes with the workers' keys, so give it the same ${CODEC_KEYS_ENV}`,
    );
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CodecServerSettingsError(`${String(issue.path[0])}: ${issue.message}`);
  }
  const settings = parsed.data;
  const corsOrigins = settings[CODEC_SERVER_ENV.corsOrigins];
  const authToken = settings[CODEC_SERVER_ENV.authToken];
  const server = await startCodecServer({
    codec,
    port,
    host: settings[CODEC_SERVER_ENV.host],
    corsOrigins,
    authToken,
    log,
  });
  const [current, ...older] = codec.keyIds;
  const summary = [
    `codec server: ${server.url} (POST /encode, /decode)`,
    `keys: "${current}" encrypts${older.length ? `; ${older.map((id) => `"${id}"`).join(', ')} decode only` : ''}`,
    `cors: ${corsOrigins.length ? corsOrigins.join(', ') : `none (set ${CODEC_SERVER_ENV.corsOrigins} to the Web UI's origin)`}`,
    `auth: ${authToken ? `token required (${CODEC_SERVER_ENV.authToken})` : 'none'}`,
  ].join('\n');
  return { ...server, summary };
}

/** `sora-series codec-server`: serves until SIGINT/SIGTERM. */
export const codecServerCommand: CommandSpec = {
  summary: 'the payload codec endpoint for the Web UI and `temporal --codec-endpoint`',
  details: `Decrypts payloads for whoever can reach it, with the workers' ${CODEC_KEYS_ENV}: keep it on loopback or a private network. Reads ${CODEC_SERVER_ENV.host}, ${CODEC_SERVER_ENV.corsOrigins} and ${CODEC_SERVER_ENV.authToken}.`,
  args: [],
  options: { port: { type: 'string', value: 'N', help: `the port to listen on (default ${DEFAULT_CODEC_PORT})` } },
  async run({ values, print }) {
    const port = portOption(values, 'port', DEFAULT_CODEC_PORT);
    const server = await startCodecServerFromEnv(port, process.env, (line) =>
      process.stderr.write(`codec-server: ${line}\n`),
    );
    print(server.summary);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  },
};
