import { routeScene, windowSize } from '../workflows/routing';
import { fitSeconds, takePriceUsd } from '../workflows/pricing';
import { renderMentions } from '../activities/providers/mentions';
import { continuityOf } from '../workflows/prompt';
import type { CharacterPassport, ProviderProfile, SceneSpec } from '../workflows/types';

const relay: ProviderProfile = {
  name: 'relay',
  contract: 'relay-v1',
  seconds: [10, 15],
  sizes: ['720x1280', '1280x720'],
  maxConcurrency: 3,
  refusesHumanLikeness: false,
  pricing: { per: 'video', usd: 0.12 },
};
const official: ProviderProfile = {
  name: 'official',
  contract: 'official',
  seconds: [4, 8, 12],
  sizes: ['720x1280', '1280x720', '1024x1792'],
  maxConcurrency: 4,
  refusesHumanLikeness: true,
  pricing: { per: 'second', usdBySize: {}, defaultUsd: 0.1 },
};
const scene: SceneSpec = { index: 1, prompt: '@character waves', seconds: 4, size: '720x1280' };
const passport: CharacterPassport = { name: 'Mira', description: 'a courier', refs: {}, refused: {} };
const route = (over: Partial<Parameters<typeof routeScene>[0]>) =>
  routeScene({ policy: 'character', scene, profiles: [official, relay], health: {}, passport, ...over });

describe('routing (pure)', () => {
  test('character: relays first, they hold any character', () => expect(route({})).toEqual(['relay', 'official']));
  test('character: a provider that refused the character goes last', () =>
    expect(route({ profiles: [relay, official], passport: { ...passport, refused: { relay: 'x' } } })).toEqual([
      'official',
      'relay',
    ]));
  test('stability: official first', () =>
    expect(route({ policy: 'stability', profiles: [relay, official] })).toEqual(['official', 'relay']));
  test('cost: cheapest first (4 s on official is $0.40, a relay video $0.12)', () => {
    expect(route({ policy: 'cost' })).toEqual(['relay', 'official']);
    const cheapOfficial = { ...official, pricing: { per: 'second' as const, usdBySize: {}, defaultUsd: 0.01 } };
    expect(route({ policy: 'cost', profiles: [relay, cheapOfficial] })).toEqual(['official', 'relay']);
  });
  test('a provider marked down is skipped', () => expect(route({ health: { relay: 'down' } })).toEqual(['official']));
  test('a size a provider lacks excludes it', () =>
    expect(route({ scene: { ...scene, size: '1024x1792' } })).toEqual(['official']));
  test('a pinned scene goes only where it is pinned, or nowhere if that provider is down', () => {
    expect(route({ scene: { ...scene, provider: 'official' } })).toEqual(['official']);
    expect(route({ scene: { ...scene, provider: 'official' }, health: { official: 'down' } })).toEqual([]);
  });
  test('window follows the chain head and the spec limit', () => {
    expect(windowSize(relay)).toBe(3);
    expect(windowSize(official, 2)).toBe(2);
    expect(windowSize(undefined)).toBe(1);
  });
  test('durations fit up to what the provider supports; prices follow', () => {
    expect(fitSeconds(relay, 4)).toBe(10);
    expect(fitSeconds(official, 10)).toBe(12);
    expect(fitSeconds(official, 30)).toBe(12);
    expect(takePriceUsd(official, 10, '720x1280')).toBeCloseTo(1.2, 6);
    expect(takePriceUsd(relay, 15, '720x1280')).toBe(0.12);
  });
  test('prompts name each character where the provider holds it, else describe it', () => {
    const mira = { token: '@character', name: 'Mira', description: 'a courier', stills: [] };
    const held = { ...mira, ref: { id: 'char_1', mention: '@char_1' } };
    const byRef = (c: { ref?: { mention: string } }) => c.ref?.mention;
    expect(renderMentions('@character waves', [held], byRef)).toBe('@char_1 waves');
    expect(renderMentions('@character waves', [mira], byRef)).toBe('Mira (a courier) waves');
    expect(renderMentions('a storm', [held], byRef)).toBe('@char_1: a storm');
    const tom = {
      token: '@tom',
      name: 'Tom',
      description: 'a baker',
      stills: [],
      ref: { id: 'char_2', mention: '@char_2' },
    };
    const mi = { token: '@mi', name: 'Mi', description: 'a cat', stills: [] };
    expect(renderMentions('@character hands @tom the letter; @tomorrow', [held, tom], byRef)).toBe(
      '@char_1 hands @char_2 the letter; @tomorrow',
    );
    expect(renderMentions('@mira and @mi', [{ ...mira, token: '@mira' }, mi], () => undefined)).toBe(
      'Mira (a courier) and Mi (a cat)',
    );
    expect(continuityOf(undefined)).toBe('degraded');
    expect(continuityOf(held.ref)).toBe('kept');
    expect(continuityOf({ ...held.ref, hold: 'referenced' })).toBe('referenced');
  });
});
