/**
 * Which upstreams the worker talks to. The file names the environment variable that holds each
 * key, never the key itself, so a config can be committed and shown in logs.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { PROVIDERS_FILE_ENV } from '../../workflows/provider-rules';
import { DEFAULT_CHAIN, simulatorProviderEntries, type SimulatorWebhooks } from './simulator-entries';
import type { ContractKind, PriceRule } from '../../workflows/types';
import {
  configSchema,
  DEFAULT_OFFICIAL_MODEL,
  formatIssue,
  type priceSchema,
  type ProviderConfigInput,
  type providerSchema,
} from './config-schema';
import { falModel } from './fal-models';
import { resolveFalSettings, type ResolvedFalSettings } from './fal-config';
import { falPriceFor, klingPriceFor, officialPriceFor, RELAY_PRICE } from './pricing';
import {
  DEFAULT_SEEDANCE_MODEL,
  resolveSeedanceSettings,
  SEEDANCE_DEFAULT_CONCURRENCY,
  SEEDANCE_DEFAULT_SIZES,
  SEEDANCE_SECONDS,
  seedancePriceRule,
  type SeedanceSettings,
} from './seedance-config';
import { resolveKlingSettings, type KlingSettings } from './kling-config';
import { DEFAULT_KLING_MODEL, DEFAULT_KLING_SIZES, KLING_MODELS, klingSizesOf } from './kling-models';

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
  /** Set for `fal` providers only. */
  fal?: ResolvedFalSettings;
  /** The seedance contract's own settings (seedance-config.ts), defaults applied. */
  seedance?: SeedanceSettings;
  /** Kling's own settings (contract kling only). */
  kling?: KlingSettings;
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
  // fal: 2 requests in progress for new accounts (more wait queued); durations and sizes are the model's
  fal: { maxConcurrency: 2, seconds: [], refusesHumanLikeness: false, expectedJobSeconds: 150 },
  // Ark refuses reference images showing a real person (InputImageSensitiveContentDetected.PrivacyInformation)
  seedance: {
    maxConcurrency: SEEDANCE_DEFAULT_CONCURRENCY,
    seconds: SEEDANCE_SECONDS,
    refusesHumanLikeness: true,
    expectedJobSeconds: 120,
  },
  // kling: a trial video pack allows 5 tasks at once per account (kling.md §6); durations per model
  kling: {
    maxConcurrency: 5,
    seconds: KLING_MODELS[DEFAULT_KLING_MODEL].seconds,
    refusesHumanLikeness: false,
    expectedJobSeconds: 180,
  },
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

/** The dev stack: the live chain (DEFAULT_CHAIN) on the bundled simulator's twins. */
export function defaultProviderConfig(
  simulatorUrl: string,
  tuning: { timeoutMs?: number; expectedJobSeconds?: number } = {},
  webhooks?: SimulatorWebhooks,
): ProvidersConfig {
  return parseProviderConfig(
    { providers: simulatorProviderEntries(simulatorUrl, DEFAULT_CHAIN, tuning, webhooks) },
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
  if (p.contract === 'kling') return resolveKling(p);
  const model =
    p.contract === 'official'
      ? (p.model ?? DEFAULT_OFFICIAL_MODEL)
      : p.contract === 'seedance'
        ? (p.model ?? DEFAULT_SEEDANCE_MODEL)
        : p.model;
  const isPro = model?.startsWith('sora-2-pro') ?? false;
  const fal = p.contract === 'fal' && model ? falModel(model) : undefined;
  if (p.contract === 'seedance') return resolveSeedance(p, model ?? DEFAULT_SEEDANCE_MODEL);
  return {
    name: p.name,
    contract: p.contract,
    baseUrl: p.baseUrl.replace(/\/+$/, ''),
    keyEnv: p.keyEnv,
    ...(model ? { model } : {}),
    maxConcurrency: p.maxConcurrency ?? defaults.maxConcurrency,
    timeoutMs: p.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pricing: p.price ? toPriceRule(p.price) : defaultPrice(p.contract, model, p.fal?.generateAudio ?? false),
    seconds: p.seconds ?? [...(fal?.seconds ?? defaults.seconds)],
    sizes: p.sizes ?? (fal ? [...fal.sizes] : p.contract === 'relay-v1' ? SIZES_RELAY : isPro ? SIZES_PRO : SIZES_720),
    refusesHumanLikeness: p.refusesHumanLikeness ?? defaults.refusesHumanLikeness,
    ...(p.contract === 'fal' ? { fal: resolveFalSettings(p.fal) } : {}),
    ...waiting(p),
  };
}

/** How a job of this entry is waited for (activities/check-plan.ts). */
function waiting(p: z.output<typeof providerSchema>): Pick<ResolvedProviderConfig, 'expectedJobSeconds' | 'webhooks'> {
  return {
    expectedJobSeconds: p.expectedJobSeconds ?? CONTRACT_DEFAULTS[p.contract].expectedJobSeconds,
    webhooks: p.webhooks ?? false,
  };
}

/** Seedance: sizes from its own table, the price from its token formula (unless the entry states one). */
function resolveSeedance(p: z.output<typeof providerSchema>, model: string): ResolvedProviderConfig {
  const seedance = resolveSeedanceSettings(p.seedance);
  const sizes = p.sizes ?? [...SEEDANCE_DEFAULT_SIZES];
  return {
    name: p.name,
    contract: p.contract,
    baseUrl: p.baseUrl.replace(/\/+$/, ''),
    keyEnv: p.keyEnv,
    model,
    maxConcurrency: p.maxConcurrency ?? CONTRACT_DEFAULTS.seedance.maxConcurrency,
    timeoutMs: p.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pricing: p.price ? toPriceRule(p.price) : seedancePriceRule(sizes, seedance.usdPerMillionTokens),
    seconds: p.seconds ?? [...CONTRACT_DEFAULTS.seedance.seconds],
    sizes,
    refusesHumanLikeness: p.refusesHumanLikeness ?? CONTRACT_DEFAULTS.seedance.refusesHumanLikeness,
    seedance,
    ...waiting(p),
  };
}

/** A kling entry: its model's durations and sizes, priced in units (kling-models.ts). */
function resolveKling(p: z.output<typeof providerSchema>): ResolvedProviderConfig {
  const model = p.model ?? DEFAULT_KLING_MODEL;
  const kling = resolveKlingSettings(p.kling);
  const pricing = p.price ? toPriceRule(p.price) : klingPriceFor(model, kling.audio, kling.unitUsd);
  if (!pricing) throw new ProviderConfigError(`no known price for Kling model "${model}": set price.perSecondUsd`);
  return {
    name: p.name,
    contract: p.contract,
    baseUrl: p.baseUrl.replace(/\/+$/, ''),
    keyEnv: p.keyEnv,
    model,
    maxConcurrency: p.maxConcurrency ?? CONTRACT_DEFAULTS.kling.maxConcurrency,
    timeoutMs: p.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pricing,
    seconds: p.seconds ?? [...KLING_MODELS[model].seconds],
    sizes: p.sizes ?? DEFAULT_KLING_SIZES.filter((s) => klingSizesOf(KLING_MODELS[model]).includes(s)),
    refusesHumanLikeness: p.refusesHumanLikeness ?? CONTRACT_DEFAULTS.kling.refusesHumanLikeness,
    kling,
    ...waiting(p),
  };
}

function toPriceRule(price: z.output<typeof priceSchema>): PriceRule {
  if ('perVideoUsd' in price) return { per: 'video', usd: price.perVideoUsd };
  const { default: defaultUsd, ...usdBySize } = price.perSecondUsd;
  // Without a default, an unlisted size is billed at the highest listed rate (never underestimate).
  return { per: 'second', usdBySize, defaultUsd: defaultUsd ?? Math.max(...Object.values(usdBySize)) };
}

function defaultPrice(contract: ContractKind, model: string | undefined, generateAudio: boolean): PriceRule {
  if (contract === 'relay-v1') return RELAY_PRICE;
  if (contract === 'kling') throw new ProviderConfigError('kling entries are resolved by resolveKling');
  const rule =
    contract === 'fal' ? falPriceFor(model ?? '', generateAudio) : officialPriceFor(model ?? DEFAULT_OFFICIAL_MODEL);
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
