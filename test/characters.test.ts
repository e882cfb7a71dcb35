import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  CharacterNotFoundError,
  CharacterRefusedError,
  defineCharacter,
  ensureCharacterHandle,
  listCharacters,
  retireCharacter,
  showCharacter,
} from '../client/series/characters';
import { characterWorkflowId } from '../workflows/ids';
import { CharacterRefusal, characterQuery, seriesJoinedSignal } from '../workflows/messages';
import type { CharacterDefinition } from '../workflows/messages';
import { startHarness, type Harness } from './helpers/harness';
import { relayAndOfficial } from './helpers/sora-pair';

/** The character library on a real dev server, a real worker and the simulator: one workflow per character. */
describe('the character library', () => {
  let h: Harness;
  let serial = 0;
  beforeAll(async () => {
    h = await startHarness({ providers: relayAndOfficial });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => h.sim.setScenario({}));

  const unique = (base: string) => `${base}-${process.pid}-${Date.now() % 100000}-${++serial}`;
  const mira = (name = unique('mira')): CharacterDefinition => ({
    name,
    description: 'a red-haired courier in a yellow raincoat',
    clip: `${h.sim.url}/clips/mira.mp4`,
  });
  const define = (d: CharacterDefinition) => defineCharacter(h.client, d, { taskQueue: h.taskQueue });
  const creations = () => {
    const { byEndpoint } = h.sim.calls();
    return { relay: byEndpoint['relay-v1'].createCharacter ?? 0, official: byEndpoint.official.createCharacter ?? 0 };
  };
  const refusalOf = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CharacterRefusedError);
    return err as CharacterRefusedError;
  };

  test('create stores the clip by sha256 and takes stills from it; no provider is called until one is needed', async () => {
    const before = creations();
    const view = await define(mira());
    expect(view.status).toBe('active');
    expect(view.handles).toEqual([]);
    const clipPath = `${h.dataDir}/clips/${view.source.clip!.sha256}.mp4`;
    expect(
      createHash('sha256')
        .update(await readFile(clipPath))
        .digest('hex'),
    ).toBe(view.source.clip!.sha256);
    expect(view.stills).toHaveLength(3);
    for (const still of view.stills) {
      expect(existsSync(still.path)).toBe(true);
      expect(
        createHash('sha256')
          .update(await readFile(still.path))
          .digest('hex'),
      ).toBe(still.sha256);
    }
    expect(creations()).toEqual(before);
  });

  test('the same definition again is accepted; a different one is refused naming the fields', async () => {
    const d = mira();
    await define(d);
    await expect(define({ ...d })).resolves.toMatchObject({ name: d.name, status: 'active' });
    const refused = await refusalOf(
      define({ ...d, description: 'a tall man in a grey coat', adopt: { relay: 'char_other' } }),
    );
    expect(refused.refusal).toBe(CharacterRefusal.definitionDiffers);
    expect(refused.message).toContain('description, adopt.relay');
    expect(refused.message).toContain('another name');
  });

  test('many asking for the same handle at the same moment make it once per provider', async () => {
    const d = mira();
    await define(d);
    const before = creations();
    const handles = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ensureCharacterHandle(h.client, d.name, i % 2 ? 'official' : 'relay')),
    );
    expect(new Set(handles.filter((x) => x.provider === 'relay').map((x) => x.ref?.id)).size).toBe(1);
    expect(new Set(handles.filter((x) => x.provider === 'official').map((x) => x.ref?.id)).size).toBe(1);
    expect(creations()).toEqual({ relay: before.relay + 1, official: before.official + 1 });
    const view = await showCharacter(h.client, d.name);
    expect(view.handles.map((x) => [x.provider, x.state, x.origin, x.costUsd])).toEqual([
      ['relay', 'ready', 'created', 0],
      ['official', 'ready', 'created', 0],
    ]);
  });

  test('a human-likeness clip is refused by official with its reason, and kept as refused (not asked again)', async () => {
    const d = { ...mira(unique('ana')), clip: `${h.sim.url}/clips/human-ana.mp4` };
    await define(d);
    const before = creations();
    const first = await ensureCharacterHandle(h.client, d.name, 'official');
    const again = await ensureCharacterHandle(h.client, d.name, 'official');
    expect(first).toMatchObject({ state: 'refused', reason: expect.stringContaining('human') });
    expect(again).toEqual(first);
    expect(creations().official).toBe(before.official + 1);
  });

  test('adopted ids are handles at once, with nothing made upstream', async () => {
    const d: CharacterDefinition = { ...mira(), adopt: { relay: 'char_adopted1' } };
    const before = creations();
    const view = await define(d);
    expect(view.handles).toEqual([
      expect.objectContaining({
        provider: 'relay',
        state: 'ready',
        origin: 'adopted',
        ref: { id: 'char_adopted1', mention: '@char_adopted1' },
      }),
    ]);
    expect(creations()).toEqual(before);
  });

  test('a clip that cannot be stored refuses the definition, naming the clip; the name stays free', async () => {
    const d = { ...mira(), clip: `${h.sim.url}/nothing-here.mp4` };
    const refused = await refusalOf(define(d));
    expect(refused.refusal).toBe(CharacterRefusal.invalidSource);
    expect(refused.message).toMatch(/clip.*HTTP 404/);
    await expect(define({ ...d, clip: `${h.sim.url}/clips/mira.mp4` })).resolves.toMatchObject({ status: 'active' });
  });

  test('retire is refused while a running series uses it, and allowed once that series ended', async () => {
    const d = mira();
    await define(d);
    // A running workflow standing in for a series that uses the character.
    const user = await h.client.workflow.start('characterWorkflow', {
      workflowId: characterWorkflowId(unique('stand-in')),
      taskQueue: h.taskQueue,
      args: [{ definition: mira() }],
    });
    const handle = h.client.workflow.getHandle(characterWorkflowId(d.name));
    await handle.signal(seriesJoinedSignal, { seriesId: user.workflowId });
    const refused = await refusalOf(retireCharacter(h.client, d.name));
    expect(refused.refusal).toBe(CharacterRefusal.inUse);
    expect(refused.message).toContain(user.workflowId);
    await user.terminate('the stand-in series ends');
    await expect(retireCharacter(h.client, d.name)).resolves.toMatchObject({ status: 'retired' });
    await expect(showCharacter(h.client, d.name)).resolves.toMatchObject({ status: 'retired' });
    expect((await listCharacters(h.client, { taskQueue: h.taskQueue })).map((c) => c.name)).not.toContain(d.name);
  });

  test('an unknown name is CharacterNotFoundError', async () => {
    await expect(showCharacter(h.client, unique('nobody'))).rejects.toBeInstanceOf(CharacterNotFoundError);
  });

  test('the workflow continues as new when its history grows, and keeps its handles', async () => {
    const d = mira();
    const handle = await h.client.workflow.start('characterWorkflow', {
      workflowId: characterWorkflowId(d.name),
      taskQueue: h.taskQueue,
      args: [{ definition: d, historyLimit: 40 }],
    });
    const firstRun = (await handle.describe()).runId;
    const made = await ensureCharacterHandle(h.client, d.name, 'relay');
    for (let i = 0; i < 12; i++) await ensureCharacterHandle(h.client, d.name, 'relay');
    const latest = h.client.workflow.getHandle(characterWorkflowId(d.name));
    expect((await latest.describe()).runId).not.toBe(firstRun);
    const view = await latest.query(characterQuery);
    expect(view.handles).toEqual([expect.objectContaining({ provider: 'relay', ref: made.ref })]);
  });
});
