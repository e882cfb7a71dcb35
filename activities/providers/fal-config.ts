import { z } from 'zod';
import { falModel, KNOWN_FAL_MODELS } from './fal-models';
import { falPriceFor } from './pricing';

/**
 * The settings only a `fal` provider has, under its entry's `fal:` key, and the checks that tie
 * them to the rest of the entry (a model fal.ts knows, hosts that belong together).
 */

/** fal's own hosts (contracts/fal-queue.md §1): the queue is the entry's `baseUrl`. */
export const FAL_QUEUE_URL = 'https://queue.fal.run';
export const FAL_STORAGE_URL = 'https://rest.fal.ai';
export const FAL_PLATFORM_URL = 'https://api.fal.ai/v1';
export const FAL_JWKS_URL = 'https://rest.alpha.fal.ai/.well-known/jwks.json';
export const FAL_WEBHOOK_TOLERANCE_SECONDS = 300;
/** How long fal's CDN keeps generated files, asked for explicitly (the docs disagree on the default). */
export const FAL_OBJECT_LIFETIME_SECONDS = 7 * 24 * 3600;

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const falSettingsSchema = z.strictObject(
  {
    /** Storage upload host (`POST {storageUrl}/storage/upload/initiate`). */
    storageUrl: url.optional(),
    /** Platform API (`GET {platformUrl}/models/requests/by-endpoint`), for finding a take's request again. */
    platformUrl: url.optional(),
    /** Where fal POSTs completions (`?fal_webhook=`): the gateway's `/webhooks/<provider>`; unset: polling only. */
    webhookUrl: url.optional(),
    /** Keys the gateway verifies fal's webhook signatures with. */
    jwksUrl: url.optional(),
    webhookToleranceSeconds: z
      .number({ error: 'must be a number of seconds' })
      .int({ error: 'must be a whole number of seconds' })
      .positive({ error: 'must be a positive number of seconds' })
      .max(3600, { error: 'must be at most 3600 s (fal signs every attempt afresh)' })
      .optional(),
    /** Ask the model for a soundtrack (Veo and Kling bill more for it; Gemini Omni always has one). */
    generateAudio: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object of fal settings' : undefined) },
);

export type FalSettings = z.output<typeof falSettingsSchema>;

interface Entry {
  contract: string;
  baseUrl: string;
  model?: string;
  price?: unknown;
  fal?: FalSettings;
}

/** What is wrong with a provider entry's fal parts, as issues with paths inside the entry. */
export function falSettingsProblems(entry: Entry): Array<{ path: PropertyKey[]; message: string }> {
  if (entry.contract !== 'fal') {
    return entry.fal ? [{ path: ['fal'], message: 'only a provider with contract "fal" takes fal settings' }] : [];
  }
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  if (!entry.model) {
    problems.push({ path: ['model'], message: `is required for fal: one of ${KNOWN_FAL_MODELS.join(', ')}` });
  } else if (!falModel(entry.model)) {
    problems.push({
      path: ['model'],
      message: `"${entry.model}" is not a reference-to-video model sora-series can drive: use one of ${KNOWN_FAL_MODELS.join(', ')}`,
    });
  } else if (!entry.price && !falPriceFor(entry.model, entry.fal?.generateAudio ?? false)) {
    problems.push({ path: ['price'], message: `no known price for model "${entry.model}": set price.perSecondUsd` });
  }
  // Another queue host (a simulator, a proxy) has its own storage and platform API too: an upload
  // to fal's real host with that host's key would only fail later, at the first character.
  if (!sameUrl(entry.baseUrl, FAL_QUEUE_URL)) {
    for (const field of ['storageUrl', 'platformUrl'] as const) {
      if (!entry.fal?.[field])
        problems.push({
          path: ['fal', field],
          message: `is required when baseUrl is not ${FAL_QUEUE_URL} (the host serving baseUrl has its own)`,
        });
    }
  }
  if (entry.fal?.webhookUrl && !entry.fal.jwksUrl && !sameUrl(entry.baseUrl, FAL_QUEUE_URL))
    problems.push({
      path: ['fal', 'jwksUrl'],
      message: `is required with fal.webhookUrl when baseUrl is not ${FAL_QUEUE_URL} (webhooks are signed by that host's keys)`,
    });
  return problems;
}

/** The fal settings with every default applied. */
export interface ResolvedFalSettings {
  storageUrl: string;
  platformUrl: string;
  webhookUrl?: string;
  jwksUrl: string;
  webhookToleranceSeconds: number;
  generateAudio: boolean;
}

export function resolveFalSettings(settings: FalSettings | undefined): ResolvedFalSettings {
  const trim = (u: string) => u.replace(/\/+$/, '');
  return {
    storageUrl: trim(settings?.storageUrl ?? FAL_STORAGE_URL),
    platformUrl: trim(settings?.platformUrl ?? FAL_PLATFORM_URL),
    ...(settings?.webhookUrl ? { webhookUrl: settings.webhookUrl } : {}),
    jwksUrl: settings?.jwksUrl ?? FAL_JWKS_URL,
    webhookToleranceSeconds: settings?.webhookToleranceSeconds ?? FAL_WEBHOOK_TOLERANCE_SECONDS,
    generateAudio: settings?.generateAudio ?? false,
  };
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b;
}
