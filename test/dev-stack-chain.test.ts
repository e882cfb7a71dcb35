/**
 * The dev stack's defaults, with real parts (its own dev server, simulator, gateway and worker):
 * the live chain (kling, fal, seedance, official) on the twins, and each twin's completions
 * reaching the gateway as its contract sends them: Kling's callbacks signed with the secret the
 * stack made for this run, fal's signed by the twin's JWKS key, Seedance's as unsigned hints.
 * Polling is slower than the jobs, so a scene that ends promptly was ended by its webhook.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { startDevStack, type DevStack } from '../client/stack/dev-stack';
import { DEFAULT_PROVIDER_CHAIN } from '../workflows/provider-rules';
import type { SeriesResult } from '../workflows/types';

/** Slower than a 3 s job, under awaitJob's 10 s heartbeat timeout. */
const POLL_MS = 8_000;

describe('the dev stack on the live chain', () => {
  let stack: DevStack;
  let connection: Connection;
  let dataDir: string;
  const pollMs = process.env.SORA_SERIES_POLL_MS;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sora-series-devchain-'));
    process.env.SORA_SERIES_POLL_MS = String(POLL_MS);
    stack = await startDevStack({
      dataDir,
      ui: false,
      simulatorPort: 0,
      gatewayPort: 0,
      jobSeconds: 2,
      logger: pino({ level: 'silent' }),
    });
    connection = await Connection.connect({ address: stack.temporalAddress });
  });
  afterAll(async () => {
    await connection?.close();
    await stack?.stop();
    if (pollMs === undefined) delete process.env.SORA_SERIES_POLL_MS;
    else process.env.SORA_SERIES_POLL_MS = pollMs;
    await rm(dataDir, { recursive: true, force: true });
  });

  test('runs kling, fal, seedance and official; each twin calls back to the gateway and the gateway takes it', async () => {
    expect(stack.providers.names).toEqual([...DEFAULT_PROVIDER_CHAIN]);
    const gatewayUrl = stack.gateway!.url;
    const name = `devchain-${Date.now()}`;
    // no `providers`: the spec's default is the chain; a scene pinned to each other twin
    const spec = {
      name,
      character: {
        name: 'Mira',
        description: 'a red-haired courier in a yellow raincoat',
        clip: `${stack.simulator.url}/clips/mira.mp4`,
      },
      defaults: { seconds: 4 },
      scenes: [
        { prompt: '@character runs along the harbor wall' },
        { prompt: '@character climbs the lighthouse stairs', provider: 'fal' },
        { prompt: '@character reads a letter in the fog', provider: 'seedance' },
      ],
    };
    const started = await fetch(`${gatewayUrl}/series`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ spec }),
    });
    expect(started.status).toBe(201);
    const client = new Client({ connection });
    const result = (await client.workflow.getHandle(`series/${name}`).result()) as SeriesResult;
    expect(result.status).toBe('completed');
    expect(result.scenes.map((s) => [s.provider, s.continuity])).toEqual([
      ['kling', 'kept'],
      ['fal', 'referenced'],
      ['seedance', 'referenced'],
    ]);
    const jobOf = (index: number) => result.scenes[index].takes.at(-1)!.jobId!;

    const kling = stack.simulator.klingCallbacks().filter((d) => d.taskId === jobOf(0));
    expect(kling.length).toBeGreaterThan(0);
    expect(kling.every((d) => d.signed && d.url === `${gatewayUrl}/webhooks/kling`)).toBe(true);
    expect(kling.find((d) => d.status === 'succeeded')).toMatchObject({ outcome: 'delivered' });

    const fal = stack.simulator.fal.webhookDeliveries().filter((d) => d.requestId === jobOf(1));
    expect(fal).toEqual([
      expect.objectContaining({ status: 'OK', url: `${gatewayUrl}/webhooks/fal`, outcome: 'delivered', attempts: 1 }),
    ]);
    expect(fal[0].lastResult).toBeGreaterThanOrEqual(200);
    expect(fal[0].lastResult).toBeLessThan(300);

    const seedance = stack.simulator.seedanceCallbacks().filter((d) => d.taskId === jobOf(2));
    expect(seedance.length).toBeGreaterThan(0);
    expect(seedance.every((d) => d.url === `${gatewayUrl}/webhooks/seedance`)).toBe(true);
    expect(seedance.find((d) => d.status === 'succeeded')).toMatchObject({ outcome: 'delivered' });

    // Each scene heard of its job's end from its webhook (a jobFinished signal), polling every 8 s.
    for (const scene of result.scenes) {
      const history = await client.workflow.getHandle(`series/${name}/scene-${scene.index}`).fetchHistory();
      const notices = (history.events ?? []).filter(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobFinished',
      );
      expect([scene.provider, notices.length > 0]).toEqual([scene.provider, true]);
    }
  }, 120_000);
});
