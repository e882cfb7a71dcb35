import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { SeriesActivities } from '../activities';
import { failureTypeOf } from '../workflows/failures';
import type { ProviderProfile, SeriesInput } from '../workflows/types';
import { temporalAddress, workflowBundle } from './helpers/harness';

/**
 * The series' own routing logic with mocked activities (the workflow is under test, not the
 * upstreams): how many calls a dead provider costs, and where scenes go.
 */
const profiles: ProviderProfile[] = [
  {
    name: 'relay',
    contract: 'relay-v1',
    seconds: [10, 15],
    sizes: ['720x1280'],
    maxConcurrency: 3,
    refusesHumanLikeness: false,
    pricing: { per: 'video', usd: 0.12 },
  },
  {
    name: 'official',
    contract: 'official',
    seconds: [4, 8, 12],
    sizes: ['720x1280'],
    maxConcurrency: 4,
    refusesHumanLikeness: true,
    pricing: { per: 'second', usdBySize: {}, defaultUsd: 0.1 },
  },
];

interface MockOptions {
  relayDown?: boolean;
  relaySubmitDown?: boolean;
  /** The relay refuses only its first N submits (an outage that ends). */
  relayRefusesFirst?: number;
  jobMs?: number;
}

function mockActivities(options: MockOptions) {
  const submits: Array<{ provider: string; key: string }> = [];
  let jobs = 0;
  const activities: Partial<SeriesActivities> = {
    async listProviderProfiles() {
      return profiles;
    },
    async storeSourceClip({ url }) {
      return { url, sha256: 'a'.repeat(64), path: '/clips/a.mp4' };
    },
    async createCharacterRef({ provider }) {
      if (provider === 'relay' && options.relayDown) {
        throw ApplicationFailure.create({
          type: failureTypeOf.unavailable,
          nonRetryable: true,
          message: '403 access_denied',
        });
      }
      return { ref: { id: `char_${provider}`, mention: provider === 'relay' ? `@char_${provider}` : 'Mira' } };
    },
    async submitTake(take) {
      submits.push({ provider: take.provider, key: take.idempotencyKey });
      const relayRefuses =
        options.relayDown ||
        options.relaySubmitDown ||
        submits.filter((s) => s.provider === 'relay').length <= (options.relayRefusesFirst ?? 0);
      if (take.provider === 'relay' && relayRefuses) {
        throw ApplicationFailure.create({
          type: failureTypeOf.unavailable,
          nonRetryable: true,
          message: '403 access_denied',
        });
      }
      return { jobId: `job_${++jobs}`, costUsd: take.provider === 'relay' ? 0.12 : 1.2, seconds: take.seconds };
    },
    async collectJob({ jobId }) {
      if (options.jobMs) await new Promise((r) => setTimeout(r, options.jobMs));
      return { asset: { path: `/assets/${jobId}.mp4`, sha256: jobId.padEnd(64, '0'), bytes: 1 } };
    },
    async storeAsset({ jobId }) {
      return { path: `/assets/${jobId}.mp4`, sha256: jobId.padEnd(64, '0'), bytes: 1 };
    },
    async writeManifest() {
      return '/manifests/x.json';
    },
    async cutEpisode({ scenes }) {
      const stored = (name: string) => ({ path: `/episodes/${name}`, sha256: name.padEnd(64, '0') });
      return {
        episode: {
          ...stored('episode.mp4'),
          bytes: 1,
          seconds: scenes.length * 10,
          width: 180,
          height: 320,
          joined: 'concat' as const,
          scenes: scenes.map(({ assetPath: _path, ...s }, i) => ({ ...s, startSeconds: i * 10, seconds: 10 })),
        },
        contactSheet: { ...stored('sheet.png'), width: 1, height: 1 },
        posters: [],
      };
    },
    async recordEpisode() {
      return false;
    },
  };
  return { activities, submits };
}

async function runWith(options: MockOptions, input: Omit<SeriesInput, 'name'>) {
  const { activities, submits } = mockActivities(options);
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = `routing-${Date.now()}-${Math.random()}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    shutdownForceTime: '5s',
  });
  const clientConnection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection: clientConnection });
  try {
    const name = `routing-${Date.now()}`;
    const workflowId = `series/${name}`;
    const result = await worker.runUntil(
      client.workflow.execute('seriesWorkflow', { taskQueue, workflowId, args: [{ ...input, name }] }),
    );
    const runs = await countRuns(client, workflowId);
    return { result, submits, runs };
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}

async function countRuns(client: Client, workflowId: string): Promise<number> {
  const runIds: string[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runIds.push(run.runId);
  return runIds.length;
}

const base = {
  character: {
    name: 'Mira',
    description: 'a courier',
    source: { kind: 'clip' as const, url: 'http://example.test/clip.mp4' },
  },
  providers: ['relay', 'official'],
  scenes: Array.from({ length: 10 }, (_, i) => ({
    index: i + 1,
    prompt: '@character runs',
    seconds: 10,
    size: '720x1280',
  })),
};

describe('series routing (workflow logic, mocked activities)', () => {
  test('a relay that is down costs a handful of calls, not one per scene', async () => {
    const { result, submits } = await runWith({ relayDown: true }, { ...base, routing: 'character' });
    expect(result.status).toBe('completed');
    expect(result.scenes.every((s: { provider: string }) => s.provider === 'official')).toBe(true);
    // Character creation on the relay already fails, so no scene even submits there.
    expect(submits.filter((s) => s.provider === 'relay')).toHaveLength(0);
    expect(submits.filter((s) => s.provider === 'official')).toHaveLength(10);
  });

  test('a relay that starts refusing submits stops being called after the first window', async () => {
    const { result, submits } = await runWith({ relaySubmitDown: true }, { ...base, routing: 'character' });
    expect(result.status).toBe('completed');
    expect(result.scenes.every((s: { provider: string }) => s.provider === 'official')).toBe(true);
    // At most one window (relay concurrency 3) of scenes tries the relay before it is marked down.
    expect(submits.filter((s) => s.provider === 'relay').length).toBeLessThanOrEqual(3);
    expect(submits.filter((s) => s.provider === 'official')).toHaveLength(10);
  });

  test('after the cooldown a provider is tried again (half-open) and used once it works', async () => {
    const { result, submits } = await runWith(
      { relayRefusesFirst: 2, jobMs: 400 },
      { ...base, routing: 'character', circuitCooldownSeconds: 1, maxParallel: 2 },
    );
    expect(result.status).toBe('completed');
    const providers = result.scenes.map((s: { provider: string }) => s.provider);
    expect(providers.slice(0, 2)).toEqual(['official', 'official']); // first window fell back
    expect(providers.slice(-2)).toEqual(['relay', 'relay']); // circuit closed again after the cooldown
    expect(submits.filter((s) => s.provider === 'relay').length).toBeLessThanOrEqual(10);
  });

  test('character routing keeps scenes on the relay; stability sends them to official', async () => {
    const byCharacter = await runWith({}, { ...base, routing: 'character' });
    expect(byCharacter.submits.every((s) => s.provider === 'relay')).toBe(true);
    expect(byCharacter.result.costUsd).toBeCloseTo(1.2, 6);
    const byStability = await runWith({}, { ...base, routing: 'stability' });
    expect(byStability.submits.every((s) => s.provider === 'official')).toBe(true);
  });

  test('a long series continues as new, carrying its results, and reports every scene once', async () => {
    const { result, submits, runs } = await runWith({}, { ...base, routing: 'character', scenesPerRun: 3 });
    expect(runs).toBe(4); // 3 + 3 + 3 + 1 scenes
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s: { index: number }) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(submits).toHaveLength(10);
    expect(result.costUsd).toBeCloseTo(1.2, 6);
  });

  test('each take has its own idempotency key derived from the scene workflow id', async () => {
    const { submits } = await runWith({}, { ...base, routing: 'cost' });
    expect(new Set(submits.map((s) => s.key)).size).toBe(10);
    expect(submits.every((s) => /^series\/routing-\d+\/scene-\d+\/take-1$/.test(s.key))).toBe(true);
  });
});
