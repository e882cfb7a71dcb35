/**
 * The seedance adapter over real HTTP against the simulator's Ark twin: a take with the
 * character's stills as reference images, the price settled on the returned tokens, every error
 * kind from Ark's codes, and at-most-once without an idempotency key (lost answers reconciled
 * from the task list by the take's seed, never re-sent).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProviderConfig, ProviderConfigError } from '../activities/providers/config';
import type { JobStatus, LocalFile, SubmitRequest, VideoProvider } from '../activities/providers/provider';
import { createProviders } from '../activities/providers/registry';
import { imageMention, takeSeed } from '../activities/providers/seedance-wire';
import { referenceStills } from '../activities/stills';
import { pngSize } from '../common/png-size';
import { startSimulator } from '../simulator/server';
import { collect, providerError } from './helpers/provider-calls';
import { probeBytes } from './helpers/media';
import { seedanceEntry } from './helpers/seedance';

const KEY = 'ark-test-key-0123456789abcdef';
const ENV = { SORA_SEEDANCE_KEY: KEY };

type Simulator = Awaited<ReturnType<typeof startSimulator>>;
let sim: Simulator;
let dir: string;
let stills: LocalFile[];
let seedance: VideoProvider;
let takes = 0;

function provider(overrides: Parameters<typeof seedanceEntry>[1] = {}): VideoProvider {
  const config = parseProviderConfig({ providers: [seedanceEntry(sim.url, { timeoutMs: 2000, ...overrides })] });
  return createProviders(config, ENV).get('seedance')!;
}

/** A take of scene `scene` of one series, with Mira held by her stills. */
function take(overrides: Partial<SubmitRequest> = {}, scene = ++takes, takeNumber = 1): SubmitRequest {
  return {
    prompt: '@character walks along the harbour at dusk',
    seconds: 5,
    size: '720x1280',
    characters: [
      {
        token: '@character',
        name: 'Mira',
        description: 'a red-haired courier',
        ref: { id: 'stills-x', mention: 'Mira', hold: 'referenced' },
        stills,
      },
    ],
    idempotencyKey: `series/seedance-test/scene-${scene}/take-${takeNumber}`,
    ...overrides,
  };
}

async function finished(p: VideoProvider, jobId: string): Promise<JobStatus> {
  for (;;) {
    const status = await p.getJob(jobId);
    if (status.state === 'completed' || status.state === 'failed') return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const entriesOf = () => sim.ledger().filter((e) => e.contract === 'seedance');

beforeAll(async () => {
  sim = await startSimulator({ keys: { official: 'o', relay: 'r', seedance: KEY }, jobSeconds: 0.3, seed: 3 });
  dir = mkdtempSync(join(tmpdir(), 'seedance-test-'));
  const clip = Buffer.from(await (await fetch(`${sim.url}/clips/mira.mp4`)).arrayBuffer());
  const path = join(dir, 'mira.mp4');
  writeFileSync(path, clip);
  stills = await referenceStills(
    { path, sha256: createHash('sha256').update(clip).digest('hex') },
    join(dir, 'stills'),
  );
  seedance = provider();
});

afterEach(() => {
  sim.setScenario({});
  sim.reset();
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a take', () => {
  it('sends the stills as reference images named by order, everything explicit, and settles on the tokens', async () => {
    const { jobId, uncertain } = await seedance.submit(take());
    expect(jobId).toMatch(/^cgt-\d{14}-[a-z0-9]{5}$/);
    expect(uncertain).toBeUndefined();
    const [entry] = entriesOf();
    expect(entry).toMatchObject({ jobId, seconds: 5, size: '720x1280', model: 'dreamina-seedance-2-0-260128' });
    expect(entry.prompt).toBe('Mira (Image 1; also Image 2 and Image 3) walks along the harbour at dusk');
    expect(entry.characterIds).toEqual(['Image 1', 'Image 2', 'Image 3']);

    // the task echoes what was asked, seed included: the model chose nothing
    const task = (await (
      await fetch(`${sim.seedanceBaseUrl}/contents/generations/tasks/${jobId}`, {
        headers: { authorization: `Bearer ${KEY}` },
      })
    ).json()) as Record<string, unknown>;
    expect(task).toMatchObject({
      ratio: '9:16',
      resolution: '720p',
      duration: 5,
      generate_audio: false,
      seed: takeSeed(take({}, takes).idempotencyKey),
    });

    const done = await finished(seedance, jobId);
    expect(done.state).toBe('completed');
    const tokens = Math.ceil((5 * 720 * 1280 * 24) / 1024);
    expect(done.billed).toEqual({ tokens, usd: (tokens * 7) / 1e6 });
    expect(entriesOf()[0].billedUsd).toBeCloseTo(done.billed!.usd, 6);

    const bytes = await collect(await seedance.download(jobId));
    const probe = await probeBytes(bytes);
    expect(probe.durationSeconds).toBeCloseTo(5, 0);
  });

  it('upscales stills below 300 px (the twin refuses them) and keeps the scaled copy beside the original', async () => {
    const original = pngSize(readFileSync(stills[0].path))!;
    expect(Math.min(original.width, original.height)).toBeLessThan(300);
    const ref = await seedance.createCharacter({
      name: 'Mira',
      description: 'a courier',
      clip: { url: `${sim.url}/clips/mira.mp4`, path: join(dir, 'mira.mp4') },
      stills,
    });
    expect(ref).toMatchObject({ hold: 'referenced', mention: 'Mira' });
    expect(sim.calls().byContract.seedance).toBe(0); // a referenced handle costs no upstream call
    // the still as it is would have been refused
    const raw = await fetch(`${sim.seedanceBaseUrl}/contents/generations/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'dreamina-seedance-2-0-260128',
        content: [
          { type: 'text', text: 'Image 1 waves' },
          {
            type: 'image_url',
            image_url: { url: `data:image/png;base64,${readFileSync(stills[0].path).toString('base64')}` },
            role: 'reference_image',
          },
        ],
      }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('InvalidParameter');
  });

  it('names references in the configured style', () => {
    expect(imageMention('Mira', [1], 'Image N')).toBe('Mira (Image 1)');
    expect(imageMention('Mira', [2, 4, 6], '@ImageN')).toBe('Mira (@Image2; also @Image4 and @Image6)');
    expect(imageMention('Mira', [1, 2], '[图N]')).toBe('Mira ([图1]; also [图2])');
  });

  it('puts every character in front of the frontal stills budget of nine images', async () => {
    const cast = Array.from({ length: 4 }, (_, i) => ({
      token: `@c${i}`,
      name: `C${i}`,
      description: 'someone',
      ref: { id: `s${i}`, mention: `C${i}`, hold: 'referenced' as const },
      stills,
    }));
    const { jobId } = await seedance.submit(take({ prompt: '@c0 meets @c1, @c2 and @c3', characters: cast }));
    const [entry] = entriesOf();
    expect(entry.jobId).toBe(jobId);
    expect(entry.characterIds).toHaveLength(9);
    // frontal stills first (1-4), then the second ones (5-8), then one third still (9)
    expect(entry.prompt).toBe(
      'C0 (Image 1; also Image 5 and Image 9) meets C1 (Image 2; also Image 6), C2 (Image 3; also Image 7) and C3 (Image 4; also Image 8)',
    );
  });
});

describe('error kinds from Ark codes', () => {
  const cases: Array<[string, Parameters<Simulator['setScenario']>[0], string, string]> = [
    [
      'rate limit',
      { contracts: { seedance: { rateLimit: { retryAfterSeconds: 7 } } } },
      'rate_limited',
      'RateLimitExceeded.EndpointRPMExceeded',
    ],
    ['queue full', { contracts: { seedance: { maxConcurrentJobs: 1 } } }, 'rate_limited', 'QuotaExceeded'],
    [
      'server error',
      { contracts: { seedance: { serverErrors: { status: 500 } } } },
      'transient',
      'InternalServiceError',
    ],
    ['overload', { contracts: { seedance: { serverErrors: { status: 503 } } } }, 'transient', 'ServerOverloaded'],
    ['revoked key', { contracts: { seedance: { down: { status: 401 } } } }, 'unavailable', 'AuthenticationError'],
    ['balance exhausted', { contracts: { seedance: { down: { status: 403 } } } }, 'unavailable', 'AccountOverdueError'],
    ['model gone', { contracts: { seedance: { down: { status: 404 } } } }, 'unavailable', 'InvalidEndpoint.NotFound'],
    [
      'real person in a reference',
      { contracts: { seedance: { sentinelBlock: {} } } },
      'rejected',
      'InputImageSensitiveContentDetected.PrivacyInformation',
    ],
    ['moderation at submit', { rejectWord: 'harbour' }, 'rejected', 'InputTextSensitiveContentDetected'],
  ];
  it.each(cases)('%s', async (_what, scenario, kind, code) => {
    if (code === 'QuotaExceeded') await seedance.submit(take()); // fills the one slot
    sim.setScenario(scenario);
    const err = await providerError(seedance.submit(take()));
    expect({ kind: err.kind, code: err.code }).toEqual({ kind, code });
    if (kind === 'rate_limited' && code !== 'QuotaExceeded') expect(err.retryAfterMs).toBe(7000);
    expect(err.message).not.toContain(KEY);
    expect(entriesOf().filter((e) => e.billedUsd > 0)).toHaveLength(code === 'QuotaExceeded' ? 1 : 0);
  });

  it('refuses what Ark would refuse before any call: a size it does not render, too long, another model', async () => {
    for (const request of [take({ size: '1024x1792' }), take({ seconds: 20 }), take({ model: 'other-model' })]) {
      expect((await providerError(seedance.submit(request))).kind).toBe('invalid');
    }
    expect(sim.calls().byContract.seedance).toBe(0);
  });

  it('an unknown task id is invalid; a body off the contract is transient', async () => {
    expect((await providerError(seedance.getJob('cgt-20260101000000-zzzzz'))).kind).toBe('invalid');
    const { jobId } = await seedance.submit(take());
    sim.setScenario({ contracts: { seedance: { endpoints: { query: { contractBreak: {} } } } } });
    expect(await providerError(seedance.getJob(jobId))).toMatchObject({
      kind: 'transient',
      code: 'contract_violation',
    });
  });

  it('output moderation: the first failure of a scene is worth one more (free) take, the second is the content', async () => {
    sim.setScenario({ contracts: { seedance: { failJobs: { code: 'moderation_blocked' } } } });
    const first = await finished(seedance, (await seedance.submit(take({}, 900, 1))).jobId);
    expect(first.error).toMatchObject({ kind: 'transient', code: 'OutputVideoSensitiveContentDetected' });
    const second = await finished(seedance, (await seedance.submit(take({}, 900, 2))).jobId);
    expect(second.error).toMatchObject({ kind: 'rejected', code: 'OutputVideoSensitiveContentDetected' });
    expect(entriesOf().map((e) => e.billedUsd)).toEqual([0, 0]); // failures are free on Ark
  });
});

describe('at most once without an idempotency key', () => {
  it('an answer lost after Ark accepted the task: found in the list by its seed, not created again', async () => {
    sim.setScenario({
      contracts: { seedance: { endpoints: { create: { reset: { burst: 1, afterHandling: true } } } } },
    });
    const { jobId, uncertain } = await seedance.submit(take());
    expect(uncertain).toBeUndefined();
    expect(entriesOf().map((e) => e.jobId)).toEqual([jobId]);
    expect(sim.calls().byEndpoint.seedance.create).toBe(1);
    expect((await finished(seedance, jobId)).state).toBe('completed');
  });

  it('an answer that never came (timeout after acceptance): reconciled the same way', async () => {
    sim.setScenario({
      contracts: { seedance: { endpoints: { create: { hang: { ms: 5000, burst: 1, afterHandling: true } } } } },
    });
    const { jobId } = await seedance.submit(take());
    expect(entriesOf().map((e) => e.jobId)).toEqual([jobId]);
    expect(sim.calls().byEndpoint.seedance.create).toBe(1);
  });

  it('a lost answer whose task is not in the list: the take ends, not re-sent, marked uncertain', async () => {
    sim.setScenario({ contracts: { seedance: { endpoints: { create: { reset: { burst: 1 } } } } } });
    const err = await providerError(seedance.submit(take()));
    expect(err).toMatchObject({
      kind: 'transient',
      code: 'submit_outcome_unknown',
      retryable: false,
      uncertainSubmission: true,
    });
    expect(sim.calls().byEndpoint.seedance.create).toBe(1);
    expect(entriesOf()).toEqual([]);
  });

  it('a malformed 2xx create answer is a lost answer too', async () => {
    sim.setScenario({ contracts: { seedance: { endpoints: { create: { malformed: { burst: 1 } } } } } });
    const { jobId } = await seedance.submit(take());
    expect(entriesOf().map((e) => e.jobId)).toEqual([jobId]);
  });

  it('findJob on a retried attempt finds this take, and only this take, by its seed', async () => {
    const since = new Date(Date.now() - 10_000);
    const mine = take();
    const { jobId } = await seedance.submit(mine);
    await seedance.submit(take()); // another scene, same parameters
    expect(await seedance.findJob!(mine, since)).toEqual({ jobId });
    expect(await seedance.findJob!(take(), since)).toBeUndefined();
    expect(await seedance.findJob!(mine, new Date(Date.now() + 60_000))).toBeUndefined();
  });
});

describe('video URLs', () => {
  it('an expired signed URL is not fetched: the asset is gone', async () => {
    let offsetMs = -25 * 3600_000;
    const past = await startSimulator({
      keys: { official: 'o', relay: 'r', seedance: KEY },
      jobSeconds: 0.1,
      now: () => Date.now() + offsetMs,
    });
    try {
      const p = createProviders(parseProviderConfig({ providers: [seedanceEntry(past.url)] }), ENV).get('seedance')!;
      const { jobId } = await p.submit(take());
      expect((await finished(p, jobId)).state).toBe('completed');
      expect(await providerError(p.download(jobId))).toMatchObject({ kind: 'invalid', code: 'asset_expired' });
      expect(past.calls().byEndpoint.seedance.video ?? 0).toBe(0);
      offsetMs = 0; // the twin itself refuses the link a day later
      const url = (
        (await (
          await fetch(`${past.seedanceBaseUrl}/contents/generations/tasks/${jobId}`, {
            headers: { authorization: `Bearer ${KEY}` },
          })
        ).json()) as { content: { video_url: string } }
      ).content.video_url;
      const response = await fetch(url);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('Request has expired');
    } finally {
      await past.close();
    }
  });
});

describe('config', () => {
  const refused = (entry: Record<string, unknown>) => {
    try {
      parseProviderConfig({ providers: [seedanceEntry('http://127.0.0.1:1', entry)] });
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderConfigError);
      return (err as Error).message;
    }
    throw new Error('config was accepted');
  };

  it('refuses a bad entry naming the field', () => {
    expect(refused({ sizes: ['1024x1792'] })).toContain(
      'providers[0].sizes[0]: 1024x1792 is not a size Seedance renders',
    );
    expect(refused({ model: 'dreamina-seedance-2-0-fast-260128', sizes: ['1080x1920'] })).toContain(
      'providers[0].sizes[0]: 1080x1920 is 1080p',
    );
    expect(refused({ seconds: [3] })).toContain('providers[0].seconds[0]: 3 s is outside');
    expect(refused({ seedance: { callbackUrl: 'ftp://x' } })).toContain(
      'providers[0].seedance.callbackUrl: must be an http(s) URL',
    );
    expect(refused({ seedance: { executionExpiresAfterSeconds: 60 } })).toContain(
      'providers[0].seedance.executionExpiresAfterSeconds: must be at least 3600',
    );
    expect(refused({ seedance: { colour: 'red' } })).toContain('providers[0].seedance.colour: unknown field');
    expect(() =>
      parseProviderConfig({
        providers: [{ name: 'o', contract: 'official', baseUrl: 'http://x', keyEnv: 'K', seedance: {} }],
      }),
    ).toThrow(/providers\[0\]\.seedance: only a "seedance" contract/);
  });

  it('estimates per second from the token formula at the configured rate', () => {
    const [p] = parseProviderConfig({
      providers: [
        seedanceEntry('http://127.0.0.1:1', { sizes: ['1280x720', '864x480'], seedance: { usdPerMillionTokens: 10 } }),
      ],
    }).providers;
    expect(p.pricing).toEqual({
      per: 'second',
      usdBySize: { '1280x720': 0.216, '864x480': 0.0972 },
      defaultUsd: 0.216,
    });
    expect(p.seconds).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(p.model).toBe('dreamina-seedance-2-0-260128');
  });
});
