import { startCliStack, type CliStack } from './helpers/cli-stack';

/** `sora-series characters ...` as separate processes against a real worker, dev server and simulator. */
describe('sora-series characters', () => {
  let stack: CliStack;
  beforeAll(async () => {
    stack = await startCliStack('cli-cast');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const name = `cli-mira-${process.pid}`;
  const creations = (contract: 'relay-v1' | 'official') => stack.sim.calls().byEndpoint[contract].createCharacter ?? 0;

  test('create from flags with --on makes that handle now; show, list; a different definition exits 1 naming the field', async () => {
    const created = await stack.cli([
      'characters',
      'create',
      ...['--name', name, '--description', 'a red-haired courier', '--clip', `${stack.sim.url}/clips/mira.mp4`],
      ...['--on', 'relay', '--json'],
    ]);
    expect([created.code, created.stderr]).toEqual([0, '']);
    const view = JSON.parse(created.stdout);
    expect(view).toMatchObject({ name, status: 'active', handles: [{ provider: 'relay', state: 'ready' }] });
    expect(creations('relay-v1')).toBe(1);
    expect(creations('official')).toBe(0);

    const shown = await stack.cli(['characters', 'show', name]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`character ${name}: active`);
    expect(shown.stdout).toMatch(/relay\s+ready char_\w+, created, \$0\.00/);
    expect(shown.stdout).toContain('stills: 3');

    const listed = await stack.cli(['characters', 'list', '--json']);
    expect(JSON.parse(listed.stdout).map((c: { name: string }) => c.name)).toContain(name);

    const file = await stack.file('other.json', {
      name,
      description: 'someone else',
      clip: `${stack.sim.url}/clips/mira.mp4`,
    });
    const differs = await stack.cli(['characters', 'create', file]);
    expect(differs.code).toBe(1);
    expect(differs.stderr).toContain('CharacterDefinitionDiffers');
    expect(differs.stderr).toContain('different description');
  });

  test('a bad definition exits 2 naming each field and its fix, before reaching Temporal', async () => {
    const file = await stack.file('bad.json', { name: 'two words', description: '', clip: 'mira.mp4' });
    const run = await stack.cli(['characters', 'create', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('CharacterDefinitionError');
    expect(run.stderr).toMatch(/- name: use 1-64 letters/);
    expect(run.stderr).toMatch(/- description: must not be empty/);
    expect(run.stderr).toMatch(/- clip: /);
    const none = await stack.cli(['characters', 'create']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give a definition file, or --name');
    const group = await stack.cli(['characters']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('"characters create"');
  });

  test('retire; show of an unknown name exits 2 saying how to find one', async () => {
    const retired = await stack.cli(['characters', 'retire', name]);
    expect([retired.code, retired.stdout.trim()]).toEqual([0, `retired character ${name}`]);
    const unknown = await stack.cli(['characters', 'show', `nobody-${process.pid}`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('sora-series characters list');
  });
});
