import { parseSpec } from '../client/spec/parse-spec';
import { formatPath } from '../common/field-path';
import { toSeriesInput } from '../client/spec/series-input';
import { specIssues } from './helpers/specs';
import { estimateCost } from '../client/spec/estimate';
import { addScenesBody, retryBody, reviewBody } from '../client/gateway/schemas';
import { profilesOf } from '../activities/providers/registry';
import { defaultProviderConfig } from '../activities/providers/config';
import { providerOf, type ActivityDeps } from '../activities/deps';
import type { NewScene } from '../workflows/messages';
import { UnknownProviderError } from '../workflows/provider-rules';
import {
  MAX_PROMPT_CHARS,
  MAX_REVIEW_NOTE_CHARS,
  resolveNewScenes,
  reviewNoteProblems,
  SCENE_DEFAULTS,
  scenePromptProblems,
} from '../workflows/scene-rules';
import type { ZodSafeParseResult } from 'zod';

const valid = {
  name: 'harbor',
  character: { name: 'Mira', description: 'a courier', clip: 'https://cdn.example/clip.mp4' },
  scenes: [{ prompt: '@character waves' }],
};

describe('series spec', () => {
  test('a valid spec gets defaults and numbered scenes', () => {
    const input = toSeriesInput(parseSpec(valid));
    // the live chain by default (the relays are suspended upstream), official last
    expect(input).toMatchObject({
      name: 'harbor',
      routing: 'character',
      providers: ['kling', 'fal', 'seedance', 'official'],
    });
    expect(input.scenes).toEqual([{ index: 1, prompt: '@character waves', seconds: 10, size: '720x1280' }]);
    expect(input.character!.source).toEqual({ kind: 'clip', url: 'https://cdn.example/clip.mp4' });
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
    const issues = specIssues(spec);
    expect(issues.some((i) => expected.test(i))).toBe(true);
  });

  test('the estimate uses the same routing and prices as the workflow, each contract billed its own way', () => {
    const input = toSeriesInput(parseSpec({ ...valid, scenes: [{ prompt: 'a' }, { prompt: 'b', seconds: 4 }] }));
    const estimate = estimateCost(input, profilesOf(defaultProviderConfig('http://127.0.0.1:7070')));
    expect(estimate.plannedUsd).toBeCloseTo(1.176, 6); // on kling: 14 s x 0.6 units x $0.14
    expect(estimate.byProvider).toEqual({
      kling: { usd: 1.176, scenes: 2 },
      fal: { usd: 4.2336, scenes: 2 }, // Seedance 2.0 on fal: $0.3024 a second at 720p
      seedance: { usd: 2.1168, scenes: 2 }, // Ark's tokens: 14 s x 720 x 1280 x 24 / 1024 at $7 a million
      official: { usd: 1.6, scenes: 2 }, // 12 s + 4 s at $0.10
    });
    expect(estimate.worstCaseUsd).toBeCloseTo(4.2336, 6); // every scene falling back to fal
    expect(() => estimateCost({ ...input, providers: ['nope'] }, [])).toThrow(
      /providers\[0\]: "nope" is not configured \(configured: none\)/,
    );
  });

  test('scenes[].id is carried into the workflow input; scenes without one get none', () => {
    const input = toSeriesInput(
      parseSpec({ ...valid, scenes: [{ id: 'dawn', prompt: '@character wakes' }, { prompt: '@character sleeps' }] }),
    );
    expect(input.scenes).toEqual([
      { index: 1, id: 'dawn', prompt: '@character wakes', seconds: 10, size: '720x1280' },
      { index: 2, prompt: '@character sleeps', seconds: 10, size: '720x1280' },
    ]);
  });
});

/** A gateway body's problems as the gateway names them (`field: message`, client/gateway/server.ts). */
const bodyProblems = (parsed: ZodSafeParseResult<unknown>): string[] =>
  parsed.error?.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) ?? [];

describe('one definition per rule: the spec, the gateway and the series refuse alike, in the same words', () => {
  const profiles = profilesOf(defaultProviderConfig('http://127.0.0.1:7070'));
  const seriesContext = { providers: ['relay', 'official'], profiles, defaults: SCENE_DEFAULTS };

  // [case, the field refused, the scene]
  const badScenes: Array<[string, string, Record<string, unknown>]> = [
    ['a second character', 'prompt', { prompt: '@character meets @bob at the pier' }],
    ['a blank prompt', 'prompt', { prompt: '   ' }],
    ['a prompt over the limit', 'prompt', { prompt: `@character ${'y'.repeat(MAX_PROMPT_CHARS)}` }],
    ['@Character in the wrong case', 'prompt', { prompt: '@Character waves' }],
    ['a control character', 'prompt', { prompt: '@character waves\u0007' }],
    ['fractional seconds', 'seconds', { prompt: '@character waves', seconds: 2.5 }],
    ['zero seconds', 'seconds', { prompt: '@character waves', seconds: 0 }],
    ['seconds over the limit', 'seconds', { prompt: '@character waves', seconds: 99 }],
    ['a size no series renders', 'size', { prompt: '@character waves', size: '640x480' }],
    ['an empty model', 'model', { prompt: '@character waves', model: '' }],
  ];

  test.each(badScenes)('%s', (_label, field, scene) => {
    const bySeries = resolveNewScenes([scene as unknown as NewScene], 1, seriesContext);
    const problems = 'problems' in bySeries ? bySeries.problems : [];
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^scenes\\[0\\]\\.${field}: `))]);
    // validate / start: the same line
    expect(specIssues({ ...valid, scenes: [scene] })).toEqual(problems);
    // the gateway's addScenes body: the same field and words, before the series is asked
    expect(bodyProblems(addScenesBody.safeParse({ scenes: [scene] }))).toEqual(problems);
  });

  test("a retake's prompt and a review's note: the gateway's bodies use the series' own rules", () => {
    const prompt = '@character and @zed';
    expect(bodyProblems(retryBody.safeParse({ index: 1, prompt }))).toEqual(scenePromptProblems(prompt));
    const note = 'n'.repeat(MAX_REVIEW_NOTE_CHARS + 1);
    expect(bodyProblems(reviewBody.safeParse({ index: 1, take: 1, verdict: 'reject', note }))).toEqual(
      reviewNoteProblems(note),
    );
    expect(
      reviewBody.safeParse({ index: 1, take: 1, verdict: 'reject', note: 'n'.repeat(MAX_REVIEW_NOTE_CHARS) }).success,
    ).toBe(true);
  });

  test('a provider the config lacks: the spec, the estimate and a worker activity say the same', () => {
    const problem =
      '"runway" is not configured (configured: kling, fal, seedance, official); remove it or add it to the provider config (SORA_SERIES_PROVIDERS)';
    const spec = { ...valid, providers: ['kling', 'runway'] };
    expect(specIssues(spec, { profiles })).toEqual([`providers[1]: ${problem}`]);
    const estimate = (() => {
      try {
        estimateCost(toSeriesInput(parseSpec(spec)), profiles);
      } catch (err) {
        return err;
      }
    })();
    expect(estimate).toBeInstanceOf(UnknownProviderError);
    expect((estimate as UnknownProviderError).problems).toEqual([`providers[1]: ${problem}`]);

    const worker = { providers: new Map(profiles.map((p) => [p.name, {}])) } as unknown as ActivityDeps;
    expect(() => providerOf(worker, 'runway')).toThrow(new UnknownProviderError([`provider: ${problem}`]));
  });
});
