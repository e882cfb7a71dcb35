/**
 * Both adapters over real HTTP against the bundled simulator: characters, a full take (submit,
 * poll, download), idempotency, and the fault scenarios each error kind is built for.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayAndOfficial } from './helpers/sora-pair';
import { OfficialProvider } from '../activities/providers/official';
import type { CharacterClip, JobStatus, VideoProvider } from '../activities/providers/provider';
import { createProviders } from '../activities/providers/registry';
import { RelayV1Provider } from '../activities/providers/relay-v1';
import { startSimulator } from '../simulator/server';
import { collect, providerError } from './helpers/provider-calls';

const KEYS = { official: 'sk-sim-official-0123456789', relay: 'relay-sim-key-0123456789' };
const ENV = { SORA_OFFICIAL_KEY: KEYS.official, SORA_RELAY_KEY: KEYS.relay };

type Simulator = Awaited<ReturnType<typeof startSimulator>>;

let sim: Simulator;
let relay: RelayV1Provider;
let official: OfficialProvider;
let dir: string;
let heroClip: CharacterClip;
let humanClip: CharacterClip;

async function downloadClip(name: string): Promise<CharacterClip> {
  const url = `${sim.url}/clips/${name}`;
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const path = join(dir, name);
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
  return { url, path };
}

async function awaitJob(provider: VideoProvider, jobId: string, timeoutMs = 10_000): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await provider.getJob(jobId);
    if (status.state === 'completed' || status.state === 'failed') return status;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${status.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function expectMp4(bytes: Buffer): void {
  expect(bytes.length).toBeGreaterThan(8);
  expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
}

function providersWith(env: NodeJS.ProcessEnv): { relay: RelayV1Provider; official: OfficialProvider } {
  const providers = createProviders(relayAndOfficial(sim), env);
  return { relay: providers.get('relay') as RelayV1Provider, official: providers.get('official') as OfficialProvider };
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 42, jobSeconds: 0.2, keys: KEYS, scenario: {} });
  ({ relay, official } = providersWith(ENV));
  dir = mkdtempSync(join(tmpdir(), 'providers-test-'));
  heroClip = await downloadClip('hero.mp4');
  humanClip = await downloadClip('human-1.mp4');
});

afterEach(() => sim.setScenario({}));

afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('characters', () => {
  it('relay creates a character from the clip URL and mentions it as @id', async () => {
    const character = await relay.createCharacter({
      name: 'Mira',
      description: 'a red-haired explorer',
      clip: heroClip,
    });
    expect(character.id).toMatch(/^char_/);
    expect(character.mention).toBe(`@${character.id}`);
  });

  it('relay extracts a character from an earlier task', async () => {
    const character = await relay.extractCharacter({ name: 'Origin', taskId: 'task_demo_origin' });
    expect(character.id).toMatch(/^char_/);
    expect(character.mention).toBe(`@${character.id}`);
  });

  it('official uploads the clip and mentions the character by name', async () => {
    const character = await official.createCharacter({
      name: 'Mira',
      description: 'a red-haired explorer',
      clip: heroClip,
    });
    expect(character.id).toMatch(/^char_/);
    expect(character.mention).toBe('Mira');
  });

  it('official refuses a clip showing a real human: rejected', async () => {
    const err = await providerError(
      official.createCharacter({ name: 'Someone', description: 'a person', clip: humanClip }),
    );
    expect(err.kind).toBe('rejected');
    expect(err.provider).toBe('official');
  });

  it('official has no extraction', () => {
    expect((official as VideoProvider).extractCharacter).toBeUndefined();
  });
});

describe('a take end to end', () => {
  it('relay: submit, poll to completion, download an mp4', async () => {
    const character = await relay.createCharacter({ name: 'Mira', description: 'explorer', clip: heroClip });
    const { jobId } = await relay.submit({
      prompt: `${character.mention} walking by the sea`,
      seconds: 10,
      size: '720x1280',
      characterId: character.id,
      idempotencyKey: 'series/test/scene-1/take-1',
    });
    const status = await awaitJob(relay, jobId);
    expect(status).toEqual({ jobId, state: 'completed', progress: 100 });
    expectMp4(await collect(await relay.download(jobId)));
  });

  it('official: submit with a character, poll to completion, download an mp4', async () => {
    const character = await official.createCharacter({ name: 'Mira', description: 'explorer', clip: heroClip });
    const { jobId } = await official.submit({
      prompt: `${character.mention} walking by the sea`,
      seconds: 4,
      size: '1280x720',
      characterId: character.id,
      idempotencyKey: 'series/test/scene-2/take-1',
    });
    const status = await awaitJob(official, jobId);
    expect(status).toEqual({ jobId, state: 'completed', progress: 100 });
    expectMp4(await collect(await official.download(jobId)));
    // `characters` is outside the SDK's typed params: make sure it reached the upstream
    const entry = sim.ledger().find((e) => e.jobId === jobId);
    expect(entry).toMatchObject({ characterIds: [character.id], seconds: 4, size: '1280x720', model: 'sora-2' });
  });

  it('reports progress while running', async () => {
    sim.setScenario({ jobSeconds: 2 });
    const { jobId } = await official.submit({
      prompt: 'a slow sunrise',
      seconds: 4,
      size: '720x1280',
      idempotencyKey: 'progress-1',
    });
    const first = await official.getJob(jobId);
    expect(['queued', 'running']).toContain(first.state);
    expect(first.progress).toBeGreaterThanOrEqual(0);
    expect(first.progress).toBeLessThan(100);
  });
});

describe('idempotency', () => {
  it.each(['relay', 'official'] as const)('%s returns the same job for the same key and bills once', async (which) => {
    const provider: VideoProvider = which === 'relay' ? relay : official;
    const request = {
      prompt: 'a lighthouse at dusk',
      seconds: which === 'relay' ? 10 : 4,
      size: '720x1280',
      idempotencyKey: `idem-${which}`,
    };
    const first = await provider.submit(request);
    const second = await provider.submit(request);
    expect(second.jobId).toBe(first.jobId);
    expect(sim.ledger().filter((e) => e.idempotencyKey === `idem-${which}`)).toHaveLength(1);
  });
});

describe('faults', () => {
  it('relay down (403) is unavailable', async () => {
    sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403 } } } });
    const submitErr = await providerError(
      relay.submit({ prompt: 'x', seconds: 10, size: '720x1280', idempotencyKey: 'down-1' }),
    );
    expect(submitErr).toMatchObject({ kind: 'unavailable', status: 403, provider: 'relay' });
    const pollErr = await providerError(relay.getJob('task_demo_origin'));
    expect(pollErr.kind).toBe('unavailable');
  });

  it.each([401, 404] as const)('relay down (%d) is unavailable', async (status) => {
    sim.setScenario({ contracts: { 'relay-v1': { down: { status } } } });
    const err = await providerError(relay.getJob('task_demo_origin'));
    expect(err).toMatchObject({ kind: 'unavailable', status });
  });

  it('official down (401) is unavailable', async () => {
    sim.setScenario({ contracts: { official: { down: { status: 401 } } } });
    const err = await providerError(
      official.submit({ prompt: 'x', seconds: 4, size: '720x1280', idempotencyKey: 'down-2' }),
    );
    expect(err).toMatchObject({ kind: 'unavailable', status: 401 });
  });

  it.each(['relay', 'official'] as const)(
    '%s: a moderated prompt ends in a failed job, kind rejected',
    async (which) => {
      sim.setScenario({ rejectWord: 'FORBIDDEN' });
      const provider: VideoProvider = which === 'relay' ? relay : official;
      const { jobId } = await provider.submit({
        prompt: 'a FORBIDDEN scene',
        seconds: which === 'relay' ? 10 : 4,
        size: '720x1280',
        idempotencyKey: `reject-${which}`,
      });
      const status = await awaitJob(provider, jobId);
      expect(status.state).toBe('failed');
      expect(status.error).toMatchObject({ kind: 'rejected', code: 'moderation_blocked' });
    },
  );

  it('a bad key is unavailable on both, and never echoed', async () => {
    const wrong = providersWith({ SORA_RELAY_KEY: 'wrong-relay-key-123', SORA_OFFICIAL_KEY: 'sk-wrong-official-123' });
    const relayErr = await providerError(wrong.relay.getJob('task_demo_origin'));
    const officialErr = await providerError(
      wrong.official.submit({ prompt: 'x', seconds: 4, size: '720x1280', idempotencyKey: 'bad-key' }),
    );
    for (const err of [relayErr, officialErr]) {
      expect(err).toMatchObject({ kind: 'unavailable', status: 401 });
      expect(err.message).not.toMatch(/wrong-relay-key-123|sk-wrong-official-123/);
    }
  });

  it('an unknown job id is invalid, not an outage', async () => {
    expect((await providerError(relay.getJob('task_does_not_exist'))).kind).toBe('invalid');
    expect((await providerError(official.getJob('video_does_not_exist'))).kind).toBe('invalid');
  });

  it('an unsupported duration fails before anything is billed', async () => {
    const billedBefore = sim.ledger().length;
    const err = await providerError(
      relay.submit({ prompt: 'x', seconds: 12, size: '720x1280', idempotencyKey: 'dur-1' }),
    );
    expect(err).toMatchObject({ kind: 'invalid', code: 'unsupported_request' });
    expect(sim.ledger()).toHaveLength(billedBefore);
  });

  it('a relay prompt missing its character mention is refused before spending', async () => {
    const err = await providerError(
      relay.submit({
        prompt: 'no mention here',
        seconds: 10,
        size: '720x1280',
        characterId: 'char_x',
        idempotencyKey: 'mention-1',
      }),
    );
    expect(err).toMatchObject({ kind: 'invalid', code: 'unsupported_request' });
  });

  it('an unreachable upstream is transient', async () => {
    const closed = createProviders(relayAndOfficial({ url: 'http://127.0.0.1:9' }), ENV);
    for (const provider of closed.values()) {
      expect((await providerError(provider.getJob('anything'))).kind).toBe('transient');
    }
  });
});
