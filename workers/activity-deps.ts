import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ActivityDeps } from '../activities';
import { loadProviderConfig, type ProvidersConfig } from '../activities/providers/config';
import { createProviders } from '../activities/providers/registry';
import { ALLOW_PRIVATE_URLS_ENV, parseAllowance, UrlPolicyConfigError, type UrlPolicy } from '../common/url-policy';

const workerEnvSchema = z.object({
  SORA_SERIES_DATA_DIR: z.string().min(1).default('.data'),
  SORA_SERIES_POLL_MS: z.coerce.number().int().min(50, 'must be at least 50 (ms)').default(1000),
  SORA_SERIES_MAX_CLIP_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(50 * 1024 * 1024),
  // 1: spec URLs (source clips) may name any private or loopback host; a list: only those hosts; unset: none (SSRF guard)
  SORA_SERIES_ALLOW_PRIVATE_URLS: z
    .string()
    .optional()
    .transform((raw, ctx): UrlPolicy => {
      try {
        return parseAllowance(raw);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message:
            err instanceof UrlPolicyConfigError ? err.message.replace(`${ALLOW_PRIVATE_URLS_ENV}: `, '') : String(err),
        });
        return z.NEVER;
      }
    }),
});

export class WorkerSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerSettingsError';
  }
}

/**
 * Builds what activities need from the worker's environment: provider config and keys are
 * read here, at start, so a missing key stops the worker before it takes any task.
 */
export function activityDepsFromEnv(
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
  config: ProvidersConfig = loadProviderConfig(env),
): ActivityDeps {
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WorkerSettingsError(`${String(issue.path[0])}: ${issue.message}`);
  }
  return {
    providers: createProviders(config, env),
    dataDir: resolve(parsed.data.SORA_SERIES_DATA_DIR),
    pollIntervalMs: parsed.data.SORA_SERIES_POLL_MS,
    maxClipBytes: parsed.data.SORA_SERIES_MAX_CLIP_BYTES,
    urlPolicy: parsed.data.SORA_SERIES_ALLOW_PRIVATE_URLS,
    logger,
  };
}
