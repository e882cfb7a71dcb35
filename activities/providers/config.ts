/**
 * Which upstreams the worker talks to. The file names the environment variable that holds each
 * key, never the key itself, so a config can be committed and shown in logs.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';
import type { ContractKind, PriceRule } from '../../workflows/types';
import { officialPriceFor, RELAY_PRICE } from './pricing';

export { PROVIDERS_FILE_ENV };

export class ProviderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderConfigError';
  }
}

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

const priceSchema = z.union(
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

const providerSchema = z.strictObject(
  {
    name: z
      .string({ error: 'must be a provider name' })
      .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, { error: 'must be 1-40 lowercase letters, digits, "-" or "_"' }),
    contract: z.enum(['official', 'relay-v1'], { error: 'must be "official" or "relay-v1"' }),
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
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object' : undefined) },
);

const configSchema = z
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
      if (p.contract === 'official' && !p.price && !officialPriceFor(p.model ?? DEFAULT_OFFICIAL_MODEL)) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', i, 'price'],
          message: `no known price for model "${p.model}": set price.perSecondUsd`,
        });
      }
    });
  });

export type ProviderConfigInput = z.input<typeof configSchema>;

/** One provider with every default applied: what the registry builds adapters from. */
export interface ResolvedProviderConfig {
  name: string;
  contract: ContractKind;
  baseUrl: string;
  keyEnv: string;
  model?: string;
  maxConcurrency: number;
  timeoutMs: number;
  pricing: PriceRule;
  seconds: number[];
  sizes: string[];
  refusesHumanLikeness: boolean;
}

export interface ProvidersConfig {
  providers: ResolvedProviderConfig[];
}

const DEFAULT_OFFICIAL_MODEL = 'sora-2';
const DEFAULT_TIMEOUT_MS = 30_000;

/** Contract defaults (contracts README): what each upstream accepts unless the file says more. */
const CONTRACT_DEFAULTS = {
  official: { maxConcurrency: 4, seconds: [4, 8, 12], refusesHumanLikeness: true },
  // relays: about 3 concurrent tasks per account before 429s; 10 or 15 s; no human-likeness check
  'relay-v1': { maxConcurrency: 3, seconds: [10, 15], refusesHumanLikeness: false },
} as const;

const SIZES_720 = ['720x1280', '1280x720'];
const SIZES_PRO = [...SIZES_720, '1024x1792', '1792x1024'];
/** relay-v1 `generate` takes no size: the consumer app renders portrait 720p. */
const SIZES_RELAY = ['720x1280'];

/** Validates raw config data (already parsed from JSON/YAML) and applies defaults. */
export function parseProviderConfig(raw: unknown, source = 'provider config'): ProvidersConfig {
  // reportInput: tells a missing field ("is required") from a wrong one
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map(formatIssue);
    throw new ProviderConfigError(`invalid ${source}:\n  ${lines.join('\n  ')}`);
  }
  return { providers: result.data.providers.map(resolveProvider) };
}

/**
 * The worker's provider config: the file named by `SORA_SERIES_PROVIDERS`, else
 * `SORA_SIMULATOR_URL` (the dev stack), else the official API plus a relay when
 * `SORA_RELAY_BASE_URL` is set.
 */
export function loadProviderConfig(env: NodeJS.ProcessEnv = process.env): ProvidersConfig {
  const file = env[PROVIDERS_FILE_ENV];
  if (file) return parseProviderConfig(readConfigFile(file), file);
  if (env.SORA_SIMULATOR_URL) return defaultProviderConfig(env.SORA_SIMULATOR_URL);
  const providers: ProviderConfigInput['providers'] = [
    {
      name: 'official',
      contract: 'official',
      baseUrl: env.SORA_OFFICIAL_BASE_URL || 'https://api.openai.com/v1',
      keyEnv: 'SORA_OFFICIAL_KEY',
      model: DEFAULT_OFFICIAL_MODEL,
    },
  ];
  if (env.SORA_RELAY_BASE_URL) {
    providers.unshift({
      name: 'relay',
      contract: 'relay-v1',
      baseUrl: env.SORA_RELAY_BASE_URL,
      keyEnv: 'SORA_RELAY_KEY',
    });
  }
  return parseProviderConfig({ providers }, 'provider config from environment');
}

/** The dev stack: both contracts served by the bundled simulator. */
export function defaultProviderConfig(simulatorUrl: string, tuning: { timeoutMs?: number } = {}): ProvidersConfig {
  const base = simulatorUrl.replace(/\/+$/, '');
  return parseProviderConfig(
    {
      providers: [
        {
          name: 'relay',
          contract: 'relay-v1',
          baseUrl: `${base}/relay`,
          keyEnv: 'SORA_RELAY_KEY',
          maxConcurrency: 3,
          ...tuning,
        },
        {
          name: 'official',
          contract: 'official',
          baseUrl: `${base}/v1`,
          keyEnv: 'SORA_OFFICIAL_KEY',
          model: 'sora-2',
          maxConcurrency: 4,
          ...tuning,
        },
      ],
    },
    'default provider config',
  );
}

/** The key of one provider, read now (never at module load), or a message saying how to set it. */
export function readProviderKey(
  provider: Pick<ResolvedProviderConfig, 'name' | 'keyEnv'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const key = env[provider.keyEnv]?.trim();
  if (!key) {
    throw new ProviderConfigError(
      `provider "${provider.name}": environment variable ${provider.keyEnv} is not set (export it in the worker's environment)`,
    );
  }
  return key;
}

function resolveProvider(p: z.output<typeof providerSchema>): ResolvedProviderConfig {
  const defaults = CONTRACT_DEFAULTS[p.contract];
  const model = p.contract === 'official' ? (p.model ?? DEFAULT_OFFICIAL_MODEL) : p.model;
  const isPro = model?.startsWith('sora-2-pro') ?? false;
  return {
    name: p.name,
    contract: p.contract,
    baseUrl: p.baseUrl.replace(/\/+$/, ''),
    keyEnv: p.keyEnv,
    ...(model ? { model } : {}),
    maxConcurrency: p.maxConcurrency ?? defaults.maxConcurrency,
    timeoutMs: p.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pricing: p.price ? toPriceRule(p.price) : defaultPrice(p.contract, model),
    seconds: p.seconds ?? [...defaults.seconds],
    sizes: p.sizes ?? (p.contract === 'relay-v1' ? SIZES_RELAY : isPro ? SIZES_PRO : SIZES_720),
    refusesHumanLikeness: p.refusesHumanLikeness ?? defaults.refusesHumanLikeness,
  };
}

function toPriceRule(price: z.output<typeof priceSchema>): PriceRule {
  if ('perVideoUsd' in price) return { per: 'video', usd: price.perVideoUsd };
  const { default: defaultUsd, ...usdBySize } = price.perSecondUsd;
  // Without a default, an unlisted size is billed at the highest listed rate (never underestimate).
  return { per: 'second', usdBySize, defaultUsd: defaultUsd ?? Math.max(...Object.values(usdBySize)) };
}

function defaultPrice(contract: ContractKind, model: string | undefined): PriceRule {
  if (contract === 'relay-v1') return RELAY_PRICE;
  const rule = officialPriceFor(model ?? DEFAULT_OFFICIAL_MODEL);
  if (!rule) throw new ProviderConfigError(`no known price for model "${model}": set price.perSecondUsd`);
  return rule;
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ProviderConfigError(
      `cannot read ${PROVIDERS_FILE_ENV}=${path} (${reason}): point it at a JSON or YAML providers file`,
    );
  }
  try {
    return extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ProviderConfigError(`cannot parse ${path}: ${(err as Error).message}`);
  }
}

/** `providers[1].baseUrl: must be an http(s) URL` */
function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    '',
  );
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
