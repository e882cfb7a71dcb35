import { defaultProviderConfig } from '../activities/providers/config';
import { profilesOf } from '../activities/providers/registry';
import { startSeries } from '../client/series/series-client';
import { parseSpec } from '../client/spec/parse-spec';
import { toSeriesInput } from '../client/spec/series-input';
import type { CharacterDefinition } from '../workflows/messages';
import { startHarness, type Harness } from './helpers/harness';

/**
 * A two-character scene on each live contract of the default chain (the simulator's twins): every
 * adapter renders both characters its own way, and the scene reports continuity per character.
 */
describe('a cast on the live contracts', () => {
  let h: Harness;
  let serial = 0;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const unique = (base: string) => `${base}-${process.pid}-${Date.now() % 100000}-${++serial}`;
  const character = (name: string): CharacterDefinition => ({
    name,
    description: `${name.split('-')[0]}, a courier in a yellow raincoat`,
    clip: `${h.sim.url}/clips/mira.mp4`,
  });

  test.each([
    ['kling', 'kept'],
    ['fal', 'referenced'],
    ['seedance', 'referenced'],
  ])('%s holds both characters of a scene (%s), each named in its prompt', async (provider, held) => {
    const [mira, tom] = [unique('mira'), unique('tom')];
    const input = toSeriesInput(
      parseSpec(
        {
          name: unique(`cast-${provider}`),
          providers: [provider],
          characters: [character(mira), character(tom)],
          scenes: [{ prompt: `@${mira} hands @${tom} the letter at the pier` }],
        },
        undefined,
        { profiles: profilesOf(defaultProviderConfig(h.sim.url)) },
      ),
    );
    const result = await (await startSeries(h.client, input, { taskQueue: h.taskQueue })).result();
    expect(result.status).toBe('completed');
    expect(result.scenes[0]).toMatchObject({ provider, continuityByCharacter: { [mira]: held, [tom]: held } });
    // fal and seedance take no idempotency key: each case's one job is its contract's only one
    const jobs = h.sim.ledger().filter((e) => e.contract === provider);
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    // Neither character is left as a bare @name nor reduced to its description.
    expect(job.prompt).not.toContain(`@${mira}`);
    expect(job.prompt).not.toContain('a courier in a yellow raincoat');
    if (provider === 'kling') expect(job.characterIds).toHaveLength(2);
  });
});
