/**
 * Which upstreams the worker talks to. The file names the environment variable that holds each
 * key, never the key itself, so a config can be committed and shown in logs.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';
import type { ContractKind, PriceRule } from '../../workflows/types';
import {
  configSchema,
  DEFAULT_OFFICIAL_MODEL,
  formatIssue,
  type priceSchema,
  type ProviderConfigInput,
  type providerSchema,
} from './config-schema';
import { officialPriceFor, RELAY_PRICE } from './pricing';

export class ProviderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderConfigError';
  }
}

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
  expectedJobSeconds: number;
  webhooks: boolean;
}

export interface ProvidersConfig {
  providers: ResolvedProviderConfig[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Contract defaults (contracts README): what each upstream accepts unless the file says more.
 * `expectedJobSeconds`: a Sora 2 job takes one to three minutes; relays queue behind the consumer app.
 */
const CONTRACT_DEFAULTS = {
  official: { maxConcurrency: 4, seconds: [4, 8, 12], refusesHumanLikeness: true, expectedJobSeconds: 120 },
  // relays: about 3 concurrent tasks per account before 429s; 10 or 15 s; no human-likeness check
  'relay-v1': { maxConcurrency: 3, seconds: [10, 15], refusesHumanLikeness: false, expectedJobSeconds: 180 },
} as const;

/** The simulator's jobs take 2 s unless told otherwise (simulator/server.ts). */
const SIMULATOR_JOB_SECONDS = 2;

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
export function defaultProviderConfig(
  simulatorUrl: string,
  tuning: { timeoutMs?: number; expectedJobSeconds?: number } = {},
): ProvidersConfig {
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
          expectedJobSeconds: tuning.expectedJobSeconds ?? SIMULATOR_JOB_SECONDS,
        },
        {
          name: 'official',
          contract: 'official',
          baseUrl: `${base}/v1`,
          keyEnv: 'SORA_OFFICIAL_KEY',
          model: 'sora-2',
          maxConcurrency: 4,
          ...tuning,
          expectedJobSeconds: tuning.expectedJobSeconds ?? SIMULATOR_JOB_SECONDS,
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
    expectedJobSeconds: p.expectedJobSeconds ?? defaults.expectedJobSeconds,
    webhooks: p.webhooks ?? false,
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
  const format = extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML';
  try {
    return format === 'JSON' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ProviderConfigError(
      `cannot parse ${PROVIDERS_FILE_ENV}=${path} as ${format}: ${(err as Error).message}; fix the file's syntax`,
    );
  }
}
