import { parseSpec, SpecError, toSeriesInput } from '../client/spec/spec';
import { estimateCost } from '../client/spec/estimate';
import { profilesOf } from '../activities/providers/registry';
import { defaultProviderConfig } from '../activities/providers/config';

const valid = {
  name: 'harbor',
  character: { name: 'Mira', description: 'a courier', clip: 'https://cdn.example/clip.mp4' },
  scenes: [{ prompt: '@character waves' }],
};

function issuesOf(spec: unknown): string[] {
  try {
    parseSpec(spec);
  } catch (err) {
    if (err instanceof SpecError) return err.issues;
    throw err;
  }
  throw new Error('spec was accepted');
}

describe('series spec', () => {
  test('a valid spec gets defaults and numbered scenes', () => {
    const input = toSeriesInput(parseSpec(valid));
    expect(input).toMatchObject({ name: 'harbor', routing: 'character', providers: ['relay', 'official'] });
    expect(input.scenes).toEqual([{ index: 1, prompt: '@character waves', seconds: 10, size: '720x1280' }]);
    expect(input.character.source).toEqual({ kind: 'clip', url: 'https://cdn.example/clip.mp4' });
  });

  test.each([
    ['missing name', { ...valid, name: undefined }, /^name: /],
    ['name with a space', { ...valid, name: 'my series' }, /^name: use letters, digits/],
    ['unknown top-level field', { ...valid, colour: 'red' }, /colour/],
    ['empty prompt', { ...valid, scenes: [{ prompt: '   ' }] }, /^scenes\[0\]\.prompt: must not be empty/],
    [
      'oversize prompt',
      { ...valid, scenes: [{ prompt: 'x'.repeat(4001) }] },
      /^scenes\[0\]\.prompt: must be at most 4000/,
    ],
    ['no scenes', { ...valid, scenes: [] }, /^scenes: add at least one scene/],
    ['prompt of the wrong type', { ...valid, scenes: [{ prompt: 42 }] }, /^scenes\[0\]\.prompt: /],
    ['unsupported size', { ...valid, scenes: [{ prompt: 'a', size: '640x480' }] }, /^scenes\[0\]\.size: .*720x1280/],
    ['duration too long', { ...valid, scenes: [{ prompt: 'a', seconds: 60 }] }, /^scenes\[0\]\.seconds: /],
    ['negative budget', { ...valid, budgetUsd: -5 }, /^budgetUsd: must be more than 0/],
    ['unknown routing', { ...valid, routing: 'fastest' }, /^routing: /],
    [
      'duplicate scene ids',
      {
        ...valid,
        scenes: [
          { id: 'a', prompt: 'x' },
          { id: 'a', prompt: 'y' },
        ],
      },
      /^scenes\[1\]\.id: duplicates scenes\[0\]\.id/,
    ],
    [
      'pinned to an unlisted provider',
      { ...valid, scenes: [{ prompt: 'x', provider: 'other' }] },
      /^scenes\[0\]\.provider: "other" is not in providers/,
    ],
    [
      'non-http clip URL',
      { ...valid, character: { ...valid.character, clip: 'file:///etc/passwd' } },
      /^character\.clip: must be an http\(s\) URL/,
    ],
    [
      'credential-bearing clip URL',
      { ...valid, character: { ...valid.character, clip: 'https://user:pw@cdn.example/c.mp4' } },
      /^character\.clip: must not carry credentials/,
    ],
    [
      'no character source',
      { ...valid, character: { name: 'Mira', description: 'x' } },
      /^character: give exactly one of clip, adopt or extract/,
    ],
    [
      'extract and clip together',
      { ...valid, character: { ...valid.character, extract: { provider: 'relay', task: 't' } } },
      /^character: give exactly one/,
    ],
    [
      'extract from an unlisted provider',
      {
        ...valid,
        providers: ['official'],
        character: { name: 'M', description: 'd', extract: { provider: 'relay', task: 't' } },
      },
      /^character\.extract\.provider: /,
    ],
    ['a provider listed twice', { ...valid, providers: ['relay', 'relay'] }, /^providers: lists a provider twice/],
  ])('refuses %s, naming the field', (_label, spec, expected) => {
    const issues = issuesOf(spec);
    expect(issues.some((i) => expected.test(i))).toBe(true);
  });

  test('the estimate uses the same routing and prices as the workflow', () => {
    const input = toSeriesInput(parseSpec({ ...valid, scenes: [{ prompt: 'a' }, { prompt: 'b', seconds: 4 }] }));
    const estimate = estimateCost(input, profilesOf(defaultProviderConfig('http://127.0.0.1:7070')));
    expect(estimate.plannedUsd).toBeCloseTo(0.24, 6); // two relay videos
    expect(estimate.byProvider.official.usd).toBeCloseTo(1.6, 6); // 12 s + 4 s at $0.10
    expect(estimate.worstCaseUsd).toBeCloseTo(1.6, 6);
    expect(() => estimateCost({ ...input, providers: ['nope'] }, [])).toThrow(/providers: "nope" not configured/);
  });
});
