import { defaultProviderConfig } from '../activities/providers/config';
import { profilesOf } from '../activities/providers/registry';
import { toSeriesInput } from '../client/spec/series-input';
import { parseSpec } from '../client/spec/parse-spec';
import { PUBLIC_ONLY } from '../common/url-policy';
import { resolveNewScenes } from '../workflows/scene-rules';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadCharacterDefinition } from '../client/series/characters';
import { urlPolicyFromEnv } from '../common/url-policy';
import { specIssues } from './helpers/specs';
import { relayAndOfficial } from './helpers/sora-pair';

/** The spec's `characters:` (a cast from the library): what it accepts, and every refusal, before anything starts. */
describe('characters: in the spec', () => {
  // the relay+official pair: the limits these cases test are theirs (2 characters per take)
  const profiles = profilesOf(relayAndOfficial({ url: 'http://127.0.0.1:7070' }));
  const liveProfiles = profilesOf(defaultProviderConfig('http://127.0.0.1:7070'));
  const options = { urlPolicy: PUBLIC_ONLY, profiles };
  const mira = { name: 'mira', description: 'a red-haired courier', clip: 'https://cdn.example/mira.mp4' };
  const spec = (extra: Record<string, unknown>) => ({
    name: 'harbor',
    providers: ['relay', 'official'],
    characters: ['tom', mira],
    scenes: [{ prompt: '@mira hands @tom the letter' }],
    ...extra,
  });

  test('library names and inline definitions become the cast; the one-character form is unchanged', () => {
    const input = toSeriesInput(parseSpec(spec({}), undefined, options));
    expect(input.character).toBeUndefined();
    expect(input.cast).toEqual([
      { name: 'tom', description: '' },
      { name: 'mira', description: 'a red-haired courier', definition: { ...mira } },
    ]);
    const one = toSeriesInput(
      parseSpec(
        {
          name: 'h',
          providers: ['relay', 'official'],
          character: { ...mira, name: 'Mira' },
          scenes: [{ prompt: '@character waves' }],
        },
        undefined,
        options,
      ),
    );
    expect(one.cast).toBeUndefined();
    expect(one.character).toMatchObject({ name: 'Mira', source: { kind: 'clip' } });
  });

  test.each([
    [
      'an unknown @name',
      spec({ scenes: [{ prompt: '@mira hands @zed the letter' }, { prompt: '@tom waves' }] }),
      /^scenes\[0\]\.prompt: mentions @zed, which is not one of the series' characters \(@tom, @mira\); add it to characters:/,
    ],
    [
      'a name in the wrong case',
      spec({ scenes: [{ prompt: '@Mira hands @tom the letter' }, { prompt: '@mira waves' }] }),
      /^scenes\[0\]\.prompt: writes @Mira: character names are case-sensitive; write @mira$/,
    ],
    [
      '@character in a series with a cast',
      spec({ scenes: [{ prompt: '@mira and @tom wave' }, { prompt: '@character waves' }] }),
      /^scenes\[1\]\.prompt: writes @character: this series names its characters \(characters:\); write one of @tom, @mira$/,
    ],
    [
      'a character no scene mentions',
      spec({ scenes: [{ prompt: '@mira waves' }] }),
      /^characters\[0\]: "tom" is not mentioned in any scene; write @tom where it appears, or remove it from characters$/,
    ],
    [
      'more characters in a scene than any provider of it can hold',
      spec({
        characters: ['tom', mira, 'kai'],
        scenes: [{ prompt: '@mira hands @tom and @kai the letter' }],
      }),
      /^scenes\[0\]\.prompt: names 3 characters \(@mira, @tom, @kai\) but the most any of its providers holds is 2 per take \(relay: 2, official: 2\); split the scene, or describe one of them in words without the @$/,
    ],
    [
      'a pinned provider that holds fewer than the scene names',
      spec({
        providers: ['relay', 'official'],
        characters: ['tom', mira, 'kai'],
        scenes: [{ prompt: '@mira hands @tom and @kai the letter', provider: 'official' }],
      }),
      /^scenes\[0\]\.prompt: names 3 characters .* but official holds 2 per take \(official: 2\)/,
    ],
    [
      'a character listed twice',
      spec({ characters: ['tom', mira, 'tom'] }),
      /^characters\[2\]: "tom" is listed twice \(also characters\[0\]\)/,
    ],
    [
      'both forms at once',
      spec({ character: { ...mira, name: 'Mira' } }),
      /^characters: give either character: .* or characters: .*, not both$/,
    ],
    [
      'neither form',
      { name: 'h', scenes: [{ prompt: 'waves' }] },
      /^character: is required: give \{ name, description, clip \} .* or instead characters: /,
    ],
    [
      'a name that cannot be a mention',
      spec({ characters: ['tom', { ...mira, name: 'mira lee' }] }),
      /^characters\[1\]\.name: use 1-64 letters, digits, dash or underscore/,
    ],
    [
      'the reserved name',
      spec({ characters: ['character', mira] }),
      /^characters\[0\]: must not begin with "character": @character is the one-character form's token/,
    ],
    [
      'an inline definition adopting on a provider the series does not use',
      spec({ providers: ['relay'], characters: ['tom', { ...mira, adopt: { official: 'char_x' } }] }),
      /^characters\[1\]\.adopt: "official" is not in providers \[relay\]; add it there or remove it$/,
    ],
    [
      'an inline definition without a source',
      spec({ characters: ['tom', { name: 'mira', description: 'a courier' }] }),
      /^characters\[1\]: give its source: clip, images, adopt or extract/,
    ],
  ])('refused, naming the field and the fix: %s', (_label, value, expected) => {
    const issues = specIssues(value, options);
    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test('scenes added by message to a series with a cast are checked against its cast', () => {
    const ctx = {
      providers: ['relay', 'official'],
      defaults: { seconds: 10, size: '720x1280' },
      cast: ['tom', 'mira'],
    };
    expect(resolveNewScenes([{ prompt: '@tom and @mira wave' }], 2, ctx)).toMatchObject({ scenes: [{ index: 2 }] });
    const three = { ...ctx, cast: ['tom', 'mira', 'kai'], profiles };
    expect(resolveNewScenes([{ prompt: '@tom, @mira and @kai wave' }], 2, three)).toEqual({
      problems: [
        expect.stringMatching(/^scenes\[0\]\.prompt: names 3 characters .* the most its providers hold is 2 per take/),
      ],
    });
    expect(resolveNewScenes([{ prompt: '@tom meets @zed' }], 2, ctx)).toEqual({
      problems: [
        expect.stringMatching(/^scenes\[0\]\.prompt: mentions @zed, which is not one of the series' characters/),
      ],
    });
  });

  test('the example: two characters from the library, and their definitions, are valid', async () => {
    const policy = urlPolicyFromEnv({ SORA_SERIES_ALLOW_PRIVATE_URLS: '1' });
    const spec = YAML.parse(await readFile(join(__dirname, '..', 'examples', 'pier-letters.yaml'), 'utf8'));
    const input = toSeriesInput(
      parseSpec(spec, 'examples/pier-letters.yaml', { urlPolicy: policy, profiles: liveProfiles }),
    );
    expect(input.cast!.map((c) => c.name)).toEqual(['mira', 'tom']);
    for (const name of ['mira', 'tom']) {
      const file = join(__dirname, '..', 'examples', 'characters', `${name}.yaml`);
      await expect(loadCharacterDefinition(file, { urlPolicy: policy, profiles: liveProfiles })).resolves.toMatchObject(
        { name },
      );
    }
  });
});
