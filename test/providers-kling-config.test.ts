/** The `kling` provider entry: defaults from the model table, unit prices, and refusals naming the field. */
import { parseProviderConfig, ProviderConfigError } from '../activities/providers/config';

const kling = {
  name: 'kling',
  contract: 'kling',
  baseUrl: 'https://api-singapore.klingai.com',
  keyEnv: 'KLING_API_KEY',
};

const refusal = (entry: Record<string, unknown>): string => {
  try {
    parseProviderConfig({ providers: [entry] });
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderConfigError);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
};

test('defaults: kling-3.0-omni, 3-15 s, 16:9 and 9:16 at 720p/1080p, 5 at once, silent at the list price per unit', () => {
  const [p] = parseProviderConfig({ providers: [kling] }).providers;
  expect(p).toMatchObject({
    model: 'kling-3.0-omni',
    seconds: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    sizes: ['1280x720', '720x1280', '1920x1080', '1080x1920'],
    maxConcurrency: 5,
    kling: { audio: 'off', unitUsd: 0.14 },
  });
  expect(p.pricing).toMatchObject({ per: 'second', usdBySize: { '1280x720': 0.084, '1920x1080': 0.112 } });
});

test('native audio and a discounted pack change the price; kling-o1 renders 3-10 s', () => {
  const [native] = parseProviderConfig({
    providers: [{ ...kling, kling: { audio: 'native', unitUsd: 0.1 } }],
  }).providers;
  expect(native.pricing).toMatchObject({ usdBySize: { '1280x720': 0.08, '1920x1080': 0.1 } });
  const [o1] = parseProviderConfig({ providers: [{ ...kling, model: 'kling-o1' }] }).providers;
  expect(o1.seconds).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
});

test.each<[string, Record<string, unknown>, RegExp]>([
  [
    'a model that holds no elements',
    { model: 'kling-2.6' },
    /providers\[0\]\.model: "kling-2\.6" is not a Kling model/,
  ],
  [
    'a duration the model cannot render',
    { model: 'kling-o1', seconds: [5, 15] },
    /providers\[0\]\.seconds: 15 s not rendered/,
  ],
  [
    'a size without a Kling aspect ratio',
    { sizes: ['1280x720', '1024x1792'] },
    /providers\[0\]\.sizes\[1\]: 1024x1792 is not a size/,
  ],
  ['native audio on o1', { model: 'kling-o1', kling: { audio: 'native' } }, /providers\[0\]\.kling\.audio:/],
  [
    'a secret pasted as its variable',
    { kling: { webhookSecretEnv: 'whsec_abc' } },
    /kling\.webhookSecretEnv: holds the secret itself/,
  ],
  ['a callback URL that is none', { kling: { callbackUrl: 'hooks' } }, /kling\.callbackUrl: must be the https URL/],
  ['an unknown kling setting', { kling: { secret: 'x' } }, /kling\.secret: keys never go in the file/],
])('refuses %s, naming the field', (_name, extra, message) => {
  expect(refusal({ ...kling, ...extra })).toMatch(message);
});

test('a kling block on another contract is refused', () => {
  expect(
    refusal({ name: 'relay', contract: 'relay-v1', baseUrl: 'https://relay.example', keyEnv: 'RELAY_KEY', kling: {} }),
  ).toMatch(/providers\[0\]\.kling: only for contract "kling"/);
});
