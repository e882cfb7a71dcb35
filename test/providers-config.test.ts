/** Provider config and registry: every bad config names its field and the fix; no network. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultProviderConfig,
  loadProviderConfig,
  parseProviderConfig,
  ProviderConfigError,
} from '../activities/providers/config';
import { DEFAULT_PROVIDER_CHAIN, PROVIDERS_FILE_ENV } from '../workflows/provider-rules';
import { OfficialProvider } from '../activities/providers/official';
import { createProviders, profilesOf } from '../activities/providers/registry';
import { RelayV1Provider } from '../activities/providers/relay-v1';

const relay = { name: 'relay', contract: 'relay-v1', baseUrl: 'https://relay.example/api', keyEnv: 'RELAY_API_KEY' };
const official = {
  name: 'official',
  contract: 'official',
  baseUrl: 'https://api.openai.com/v1',
  keyEnv: 'OPENAI_API_KEY',
};

function configError(raw: unknown): string {
  try {
    parseProviderConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderConfigError);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('parseProviderConfig rejects bad configs, naming the field', () => {
  it.each<[string, unknown, RegExp]>([
    ['no providers key', {}, /providers: is required/],
    ['empty list', { providers: [] }, /providers: must list at least one provider/],
    [
      'ftp base URL',
      { providers: [relay, { ...official, baseUrl: 'ftp://files.example' }] },
      /providers\[1\]\.baseUrl: must be an http\(s\) URL/,
    ],
    [
      'unknown contract',
      { providers: [{ ...relay, contract: 'relay-v2' }] },
      /providers\[0\]\.contract: must be one of "official", "relay-v1"/,
    ],
    [
      'key pasted into keyEnv',
      { providers: [{ ...relay, keyEnv: 'sk-proj-abcdef0123456789' }] },
      /providers\[0\]\.keyEnv: holds what looks like a key/,
    ],
    [
      'key in the file',
      { providers: [{ ...relay, apiKey: 'abc' }] },
      /providers\[0\]\.apiKey: keys never go in the file/,
    ],
    [
      'missing baseUrl',
      { providers: [{ name: 'relay', contract: 'relay-v1', keyEnv: 'K' }] },
      /providers\[0\]\.baseUrl: is required/,
    ],
    [
      'zero concurrency',
      { providers: [{ ...relay, maxConcurrency: 0 }] },
      /providers\[0\]\.maxConcurrency: must be a positive integer/,
    ],
    [
      'duplicate names',
      { providers: [relay, { ...official, name: 'relay' }] },
      /providers\[1\]\.name: duplicate name "relay"/,
    ],
    [
      'negative price',
      { providers: [{ ...relay, price: { perVideoUsd: -1 } }] },
      /providers\[0\]\.price\.perVideoUsd: must be a non-negative number of USD/,
    ],
    [
      'price of unknown shape',
      { providers: [{ ...relay, price: { perHourUsd: 1 } }] },
      /providers\[0\]\.price: must be \{perVideoUsd/,
    ],
    [
      'unknown model without price',
      { providers: [{ ...official, model: 'sora-9' }] },
      /providers\[0\]\.price: no known price for model "sora-9"/,
    ],
    ['bad size', { providers: [{ ...relay, sizes: ['big'] }] }, /providers\[0\]\.sizes\[0\]: must be WIDTHxHEIGHT/],
    [
      'typo in a field',
      { providers: [{ ...relay, maxConcurency: 2 }] },
      /providers\[0\]\.maxConcurency: unknown field/,
    ],
  ])('%s', (_label, raw, message) => {
    expect(configError(raw)).toMatch(message);
  });
});

describe('defaults per contract', () => {
  it('fills relay and official defaults', () => {
    const { providers } = parseProviderConfig({ providers: [relay, { ...official, model: 'sora-2-pro' }] });
    expect(providers[0]).toMatchObject({
      maxConcurrency: 3,
      seconds: [10, 15],
      refusesHumanLikeness: false,
      pricing: { per: 'video', usd: 0.12 },
    });
    expect(providers[1]).toMatchObject({
      maxConcurrency: 4,
      seconds: [4, 8, 12],
      refusesHumanLikeness: true,
      model: 'sora-2-pro',
    });
    expect(providers[1].pricing).toMatchObject({ per: 'second', usdBySize: { '1792x1024': 0.5 } });
    expect(providers[1].sizes).toContain('1792x1024');
  });

  it('maps perSecondUsd with a default', () => {
    const { providers } = parseProviderConfig({
      providers: [{ ...official, price: { perSecondUsd: { default: 0.2, '1792x1024': 0.4 } } }],
    });
    expect(providers[0].pricing).toEqual({ per: 'second', usdBySize: { '1792x1024': 0.4 }, defaultUsd: 0.2 });
  });

  it('builds the dev stack config from a simulator URL: the live chain, official last, no relay', () => {
    const { providers } = defaultProviderConfig('http://127.0.0.1:7777/');
    expect(providers.map((p) => [p.name, p.contract, p.baseUrl, p.keyEnv, p.maxConcurrency])).toEqual([
      ['kling', 'kling', 'http://127.0.0.1:7777/kling', 'SORA_KLING_KEY', 5],
      ['fal', 'fal', 'http://127.0.0.1:7777/fal/queue', 'SORA_FAL_KEY', 2],
      ['seedance', 'seedance', 'http://127.0.0.1:7777/seedance/api/v3', 'SORA_SEEDANCE_KEY', 3],
      ['official', 'official', 'http://127.0.0.1:7777/v1', 'SORA_OFFICIAL_KEY', 4],
    ]);
    expect(providers.map((p) => p.name)).toEqual([...DEFAULT_PROVIDER_CHAIN]);
    const fal = providers[1];
    expect(fal.model).toBe('bytedance/seedance-2.0/reference-to-video');
    expect(fal.fal).toMatchObject({
      storageUrl: 'http://127.0.0.1:7777/fal/rest',
      platformUrl: 'http://127.0.0.1:7777/fal/api/v1',
      jwksUrl: 'http://127.0.0.1:7777/fal/.well-known/jwks.json',
    });
    // without a gateway: polling only, nothing calls back
    expect(providers[0].kling?.callbackUrl).toBeUndefined();
    expect(fal.fal?.webhookUrl).toBeUndefined();
    expect(providers[2].seedance?.callbackUrl).toBeUndefined();
  });

  it('points every twin of the chain at the gateway when given one', () => {
    const { providers } = defaultProviderConfig(
      'http://127.0.0.1:7777',
      { timeoutMs: 900 },
      { gatewayUrl: 'http://127.0.0.1:7071/', klingSecretEnv: 'KLING_SECRET' },
    );
    const [kling, fal, seedance, official] = providers;
    expect(kling.kling).toMatchObject({
      callbackUrl: 'http://127.0.0.1:7071/webhooks/kling',
      webhookSecretEnv: 'KLING_SECRET',
    });
    expect(fal.fal?.webhookUrl).toBe('http://127.0.0.1:7071/webhooks/fal');
    expect(seedance.seedance?.callbackUrl).toBe('http://127.0.0.1:7071/webhooks/seedance');
    expect(official).not.toHaveProperty('kling');
    expect(providers.map((p) => p.timeoutMs)).toEqual([900, 900, 900, 900]);
  });
});

describe('loadProviderConfig', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'providers-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads YAML and JSON files named by the environment', () => {
    const yamlPath = join(dir, 'providers.yaml');
    writeFileSync(
      yamlPath,
      'providers:\n  - name: relay\n    contract: relay-v1\n    baseUrl: https://relay.example/api\n    keyEnv: RELAY_API_KEY\n',
    );
    expect(loadProviderConfig({ [PROVIDERS_FILE_ENV]: yamlPath }).providers[0].name).toBe('relay');
    const jsonPath = join(dir, 'providers.json');
    writeFileSync(jsonPath, JSON.stringify({ providers: [official] }));
    expect(loadProviderConfig({ [PROVIDERS_FILE_ENV]: jsonPath }).providers[0].name).toBe('official');
  });

  it('names the file in read and parse errors', () => {
    expect(() => loadProviderConfig({ [PROVIDERS_FILE_ENV]: join(dir, 'missing.yaml') })).toThrow(
      /cannot read SORA_SERIES_PROVIDERS=.*missing\.yaml \(ENOENT\)/,
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"providers": [');
    expect(() => loadProviderConfig({ [PROVIDERS_FILE_ENV]: broken })).toThrow(/cannot parse .*broken\.json/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'providers:\n  - name: relay\n    contract: relay-v1\n    baseUrl: nope\n    keyEnv: K\n');
    expect(() => loadProviderConfig({ [PROVIDERS_FILE_ENV]: bad })).toThrow(
      /invalid .*bad\.yaml:\n {2}providers\[0\]\.baseUrl: must be an http\(s\) URL/,
    );
  });

  it('falls back to the environment', () => {
    expect(loadProviderConfig({ SORA_SIMULATOR_URL: 'http://127.0.0.1:1' }).providers.map((p) => p.name)).toEqual([
      'kling',
      'fal',
      'seedance',
      'official',
    ]);
    expect(loadProviderConfig({}).providers.map((p) => p.baseUrl)).toEqual(['https://api.openai.com/v1']);
    expect(loadProviderConfig({ SORA_RELAY_BASE_URL: 'https://r.example' }).providers.map((p) => p.name)).toEqual([
      'relay',
      'official',
    ]);
  });
});

describe('registry', () => {
  const config = parseProviderConfig({ providers: [relay, official] });

  it('reads keys at call time and names each missing one', () => {
    expect(() => createProviders(config, { OPENAI_API_KEY: 'x' })).toThrow(
      'provider "relay": environment variable RELAY_API_KEY is not set (export it in the worker\'s environment)',
    );
    expect(() => createProviders(config, {})).toThrow(/RELAY_API_KEY[\s\S]*OPENAI_API_KEY/);
    const providers = createProviders(config, { RELAY_API_KEY: 'relay-secret-1', OPENAI_API_KEY: 'official-secret-1' });
    expect(providers.get('relay')).toBeInstanceOf(RelayV1Provider);
    expect(providers.get('official')).toBeInstanceOf(OfficialProvider);
    // keys live in private fields: nothing enumerable or serialised carries them
    for (const provider of providers.values()) expect(JSON.stringify(provider)).not.toMatch(/secret-1/);
  });

  it('exposes profiles without secrets or URLs', () => {
    const profiles = profilesOf(config);
    expect(profiles.map((p) => p.name)).toEqual(['relay', 'official']);
    expect(JSON.stringify(profiles)).not.toMatch(/https?:|KEY/);
  });
});
