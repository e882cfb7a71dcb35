import { z } from 'zod';
import { formatPath } from '../../common/field-path';
import { falSettingsProblems, falSettingsSchema } from './fal-config';
import type { ContractKind } from '../../workflows/types';
import { klingEntryProblems, klingSettingsSchema } from './kling-config';
import { officialPriceFor } from './pricing';
import { seedanceEntryProblems, seedanceSettingsSchema } from './seedance-config';

/**
 * The provider config file as a zod schema, and its problems worded one line each. A key pasted
 * where its variable's name belongs is refused, so a config can be committed and shown in logs.
 */

/** Contracts a provider entry may name (ContractKind); one line each, the list builds the message. */
const CONTRACT_KINDS = ['official', 'relay-v1', 'fal', 'seedance', 'kling'] as const satisfies readonly ContractKind[];

/** The model an official provider uses (and is priced by) unless its entry names one. */
export const DEFAULT_OFFICIAL_MODEL = 'sora-2';

const httpUrl = z.string({ error: 'must be an http(s) URL' }).refine(isHttpUrl, { error: 'must be an http(s) URL' });

const envVarName = z
  .string({ error: 'must name the environment variable that holds the key, e.g. "RELAY_API_KEY"' })
  .superRefine((value, ctx) => {
    if (looksLikeSecret(value)) {
      ctx.addIssue({
        code: 'custom',
        message: 'holds what looks like a key: put the key in an environment variable and write its NAME here',
      });
    } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an environment variable name (letters, digits, underscores), e.g. "RELAY_API_KEY"',
      });
    }
  });

const usd = z
  .number({ error: 'must be a number of USD' })
  .nonnegative({ error: 'must be a non-negative number of USD' });

const positiveInt = (what: string) =>
  z
    .number({ error: `must be a ${what}` })
    .int({ error: `must be a ${what}` })
    .positive({ error: `must be a ${what}` });

export const priceSchema = z.union(
  [
    z.strictObject({ perVideoUsd: usd }),
    z.strictObject({
      // `default` applies to sizes not listed
      perSecondUsd: z.record(z.string(), usd).refine((r) => Object.keys(r).length > 0, {
        error: 'must list at least one size (or "default")',
      }),
    }),
  ],
  { error: 'must be {perVideoUsd: number} or {perSecondUsd: {"<size>"|default: number}}' },
);

export const providerSchema = z.strictObject(
  {
    name: z
      .string({ error: 'must be a provider name' })
      .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, { error: 'must be 1-40 lowercase letters, digits, "-" or "_"' }),
    contract: z.enum(CONTRACT_KINDS, { error: `must be one of ${CONTRACT_KINDS.map((c) => `"${c}"`).join(', ')}` }),
    baseUrl: httpUrl,
    keyEnv: envVarName,
    model: z.string().min(1).optional(),
    maxConcurrency: positiveInt('positive integer').optional(),
    timeoutMs: positiveInt('positive integer of milliseconds').optional(),
    price: priceSchema.optional(),
    seconds: z
      .array(positiveInt('positive integer of seconds'))
      .min(1, { error: 'must list at least one duration' })
      .optional(),
    sizes: z
      .array(z.string().regex(/^\d+x\d+$/, { error: 'must be WIDTHxHEIGHT, e.g. "720x1280"' }))
      .min(1, { error: 'must list at least one size' })
      .optional(),
    refusesHumanLikeness: z.boolean().optional(),
    fal: falSettingsSchema.optional(),
    seedance: seedanceSettingsSchema.optional(),
    kling: klingSettingsSchema.optional(),
    expectedJobSeconds: z
      .number({ error: 'must be a positive number of seconds' })
      .positive({ error: 'must be a positive number of seconds' })
      .optional(),
    webhooks: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object' : undefined) },
);

export const configSchema = z
  .strictObject({
    providers: z
      .array(providerSchema, { error: 'must be a list of providers' })
      .min(1, { error: 'must list at least one provider' }),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.providers.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({
          code: 'custom',
          path: ['providers', i, 'name'],
          message: `duplicate name "${p.name}": names must be unique`,
        });
      seen.add(p.name);
      if (p.kling && p.contract !== 'kling')
        ctx.addIssue({
          code: 'custom',
          path: ['providers', i, 'kling'],
          message: 'only for contract "kling": remove it',
        });
      if (p.contract === 'kling')
        for (const [field, message] of klingEntryProblems(p))
          ctx.addIssue({ code: 'custom', path: ['providers', i, ...field], message });
      if (p.contract === 'official' && !p.price && !officialPriceFor(p.model ?? DEFAULT_OFFICIAL_MODEL)) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', i, 'price'],
          message: `no known price for model "${p.model}": set price.perSecondUsd`,
        });
      }
      for (const issue of falSettingsProblems(p))
        ctx.addIssue({ code: 'custom', ...issue, path: ['providers', i, ...issue.path] });
      if (p.seedance && p.contract !== 'seedance')
        ctx.addIssue({
          code: 'custom',
          path: ['providers', i, 'seedance'],
          message: `only a "seedance" contract takes seedance settings (this one is "${p.contract}"): remove the block or fix contract`,
        });
      if (p.contract === 'seedance')
        for (const [path, message] of seedanceEntryProblems(p))
          ctx.addIssue({ code: 'custom', path: ['providers', i, ...path], message });
    });
  });

export type ProviderConfigInput = z.input<typeof configSchema>;

/** `providers[1].baseUrl: must be an http(s) URL` */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => {
        const field = path ? `${path}.${key}` : key;
        return /key|token|secret/i.test(key) && key !== 'keyEnv'
          ? `${field}: keys never go in the file: export the key in an environment variable and name it in keyEnv`
          : `${field}: unknown field (remove it or check its spelling)`;
      })
      .join('\n  ');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${path || '(root)'}: is required`;
  return `${path || '(root)'}: ${issue.message}`;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Catches the classic mistake of pasting the key where its variable's name belongs. */
function looksLikeSecret(value: string): boolean {
  return /^(sk-|sess-|Bearer\s)/i.test(value) || (value.length >= 32 && /[a-z]/.test(value) && /\d/.test(value));
}
