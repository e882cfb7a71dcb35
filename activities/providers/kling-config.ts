import { z } from 'zod';
import { DEFAULT_KLING_MODEL, KLING_MODELS, KLING_SIZES, KLING_UNIT_USD, type KlingAudio } from './kling-models';

/**
 * The `kling:` block of a provider entry: what only the Kling contract needs. The webhook secret
 * is named by its variable, like the key, so the file can still be committed.
 */
export const klingSettingsSchema = z.strictObject(
  {
    /** Where Kling POSTs task callbacks: the gateway's public `/webhooks/<provider>` URL. */
    callbackUrl: z
      .string({ error: 'must be the https URL of the gateway route, e.g. "https://hooks.example/webhooks/kling"' })
      .refine(isHttpUrl, {
        error: 'must be the https URL of the gateway route, e.g. "https://hooks.example/webhooks/kling"',
      })
      .optional(),
    /** The variable holding the console's Webhook Secret (`whsec_...`), for the gateway that verifies callbacks. */
    webhookSecretEnv: z
      .string()
      .refine((v) => !/^whsec_/i.test(v), {
        error: 'holds the secret itself: put it in an environment variable and write its NAME here',
      })
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
        error: 'must name the environment variable that holds the webhook secret, e.g. "KLING_WEBHOOK_SECRET"',
      })
      .optional(),
    /** `native` renders sound (and bills more); default `off`. */
    audio: z.enum(['off', 'native'], { error: 'must be "off" or "native"' }).optional(),
    /** What one unit costs you (a discounted pack); default the list price, 0.14. */
    unitUsd: z
      .number({ error: 'must be a number of USD' })
      .positive({ error: 'must be a positive number of USD' })
      .optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object' : undefined) },
);

export type KlingSettingsInput = z.output<typeof klingSettingsSchema>;

/** The Kling settings with defaults applied; `webhookSecretEnv` is only read by the gateway. */
export interface KlingSettings {
  callbackUrl?: string;
  webhookSecretEnv?: string;
  audio: KlingAudio;
  unitUsd: number;
}

export function resolveKlingSettings(input: KlingSettingsInput | undefined): KlingSettings {
  return {
    ...(input?.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
    ...(input?.webhookSecretEnv ? { webhookSecretEnv: input.webhookSecretEnv } : {}),
    audio: input?.audio ?? 'off',
    unitUsd: input?.unitUsd ?? KLING_UNIT_USD,
  };
}

/** Problems of one kling entry, as [path below the entry, message]: model, durations and sizes must be ones it renders. */
export function klingEntryProblems(entry: {
  model?: string;
  seconds?: number[];
  sizes?: string[];
  kling?: KlingSettingsInput;
}): Array<[Array<string | number>, string]> {
  const name = entry.model ?? DEFAULT_KLING_MODEL;
  const model = KLING_MODELS[name];
  if (!model)
    return [
      [
        ['model'],
        `"${name}" is not a Kling model that holds elements; use one of ${Object.keys(KLING_MODELS).join(', ')}`,
      ],
    ];
  const problems: Array<[Array<string | number>, string]> = [];
  const badSeconds = (entry.seconds ?? []).filter((s) => !model.seconds.includes(s));
  if (badSeconds.length)
    problems.push([
      ['seconds'],
      `${badSeconds.join(', ')} s not rendered by ${name} (it renders ${model.seconds[0]}-${model.seconds.at(-1)} s)`,
    ]);
  (entry.sizes ?? []).forEach((size, i) => {
    const known = KLING_SIZES[size];
    if (!known || !model.resolutions.includes(known.resolution))
      problems.push([
        ['sizes', i],
        `${size} is not a size ${name} renders; use one of ${Object.entries(KLING_SIZES)
          .filter(([, s]) => model.resolutions.includes(s.resolution))
          .map(([s]) => s)
          .join(', ')}`,
      ]);
  });
  if (entry.kling?.audio === 'native' && Object.keys(model.unitsPerSecond.native).length === 0)
    problems.push([['kling', 'audio'], `${name} renders no native audio here; use "off" or model kling-3.0-omni`]);
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
