/**
 * Provider keys never reach workflow histories, worker logs, manifests or CLI output, on the
 * happy path and on the failure paths that carry the most text: an upstream that echoes the key
 * back in its error, a relay that starts answering 403, a rejected scene, and a worker whose keys
 * are wrong. Workers run as real processes (their real stdout/stderr is scanned), series are
 * started by the real CLI, histories are read from the server with payloads decoded.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { ALLOW_PRIVATE_URLS_ENV } from '../common/url-policy';
import { classifyHttpFailure, classifyThrown } from '../activities/providers/errors';
import { scrubSecrets } from '../common/secrets';
import { temporalAddress } from './helpers/harness';
import { exited, runCli, spawnWorker, type RunResult } from './helpers/processes';
import { relayAndOfficialFile } from './helpers/sora-pair';
import { PROVIDERS_FILE_ENV } from '../workflows/provider-rules';

const unique = () => randomBytes(8).toString('hex');

/** Every key in play, by label. Each has a random part no other text can contain by chance. */
const KEYS = {
  relay: `sk-relay-SECRET-${unique()}`,
  official: `sk-official-SECRET-${unique()}`,
  // no `sk-` prefix, held in a variable not named like a key: only exact-value scrubbing can catch it
  leaky: `leaky-SECRET-${unique()}`,
  wrongRelay: `sk-relay-SECRET-WRONG-${unique()}`,
  wrongOfficial: `sk-official-SECRET-WRONG-${unique()}`,
};

/** Labels of the keys found in `text`: whole, by their random part, or base64-encoded. */
function findSecrets(text: string): string[] {
  return Object.entries(KEYS)
    .filter(([, key]) => {
      const randomPart = key.slice(-16);
      return text.includes(key) || text.includes(randomPart) || text.includes(Buffer.from(key).toString('base64'));
    })
    .map(([label]) => label);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * JSON of a history with every payload decoded: fetchHistory gives payload bytes as base64
 * strings (or bytes), so JSON.stringify alone would hide a key inside a payload.
 */
function historyText(history: unknown): string {
  return JSON.stringify(history, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    if (typeof value === 'string' && value.length >= 8 && BASE64.test(value))
      return `${value} (${Buffer.from(value, 'base64').toString('utf8')})`;
    return value;
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the scan can fail', () => {
  test('finds a key whole, by its random part, base64-encoded, and inside real material', () => {
    expect(findSecrets(`Authorization: Bearer ${KEYS.relay}`)).toEqual(['relay']);
    expect(findSecrets(`key ...${KEYS.official.slice(-16)}`)).toEqual(['official']);
    expect(findSecrets(Buffer.from(KEYS.leaky).toString('base64'))).toEqual(['leaky']);
    expect(findSecrets(JSON.stringify({ env: { SORA_RELAY_KEY: KEYS.wrongRelay } }))).toEqual(['wrongRelay']);
    expect(findSecrets('sk-relay-SECRET-but-not-ours')).toEqual([]);
  });

  test("the logger's last pass blanks all five keys, prefixed or not", () => {
    const line = JSON.stringify({ msg: `echo ${Object.values(KEYS).join(' ')}` });
    expect(findSecrets(line)).toHaveLength(5);
    expect(findSecrets(scrubSecrets(line, [KEYS.leaky]))).toEqual([]);
  });
});

describe('one scrubber (common/secrets.ts) for log lines and upstream errors', () => {
  test('blanks the given values, bearer and basic credentials and sk- keys; values too short to be keys stay', () => {
    expect(scrubSecrets('auth Bearer abc.def and sk-proj-123456789 and mykey1234', ['mykey1234'])).toBe(
      'auth Bearer [redacted] and sk-[redacted] and [redacted]',
    );
    expect(scrubSecrets('Authorization: Basic dXNlcjpwdw== at the door', ['at'])).toBe(
      'Authorization: Basic [redacted] at the door',
    );
    // longest first: a key that contains another is blanked whole
    expect(scrubSecrets('x leaky-SECRET-long-one x', ['leaky-SECRET', 'leaky-SECRET-long-one'])).toBe('x [redacted] x');
  });

  test('an upstream error that echoes a key, plain, JSON-escaped or in Basic credentials, loses it as a log line would', () => {
    // A key with a quote in it reads differently once an upstream embeds it in a JSON body.
    const key = `q"uoted-SECRET-${unique()}`;
    const basic = Buffer.from(`user:${key}`).toString('base64');
    const echoed = `key ${key} refused; body {"key":${JSON.stringify(key)}}; proxy said Basic ${basic}`;
    const http = classifyHttpFailure({ provider: 'relay', status: 401, message: echoed, secrets: [key] });
    const thrown = classifyThrown('relay', new Error(echoed), [key]);
    for (const message of [http.message, thrown.message]) {
      expect(message).toBe(`relay: ${scrubSecrets(echoed, [key])}`);
      expect(message).not.toContain(key.slice(-16));
      expect(message).not.toContain(basic);
    }
  });
});

describe('keys never reach history, logs, manifests or CLI output', () => {
  let sim: RunningSimulator;
  let wrongSim: RunningSimulator;
  let leaky: Server;
  const leakySeen: string[] = [];
  let dir: string;
  let connection: Connection;
  let client: Client;
  let workerA: ReturnType<typeof spawnWorker>;
  let workerB: ReturnType<typeof spawnWorker>;
  let envA: NodeJS.ProcessEnv;
  let envB: NodeJS.ProcessEnv;
  const cliRuns: Array<{ what: string } & RunResult> = [];

  beforeAll(async () => {
    const keys = { relay: KEYS.relay, official: KEYS.official };
    sim = await startSimulator({ port: 0, seed: 11, jobSeconds: 0.3, keys });
    wrongSim = await startSimulator({ port: 0, seed: 12, jobSeconds: 0.3, keys });
    // A relay that echoes whatever credentials it got into its error (some do).
    leaky = createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      leakySeen.push(auth);
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            code: 'unauthorized',
            message: `key ${auth.replace(/^Bearer /, '')} is not valid here (got "${auth}")`,
          },
        }),
      );
    });
    await new Promise<void>((resolve) => leaky.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(join(tmpdir(), 'sora-secrets-'));
    const providersFile = join(dir, 'providers.json');
    await writeFile(
      providersFile,
      JSON.stringify({
        providers: [
          {
            name: 'leaky',
            contract: 'relay-v1',
            baseUrl: `http://127.0.0.1:${(leaky.address() as AddressInfo).port}/relay`,
            keyEnv: 'LEAKY_ACCESS',
            maxConcurrency: 2,
            expectedJobSeconds: 0.3,
          },
          {
            name: 'relay',
            contract: 'relay-v1',
            baseUrl: sim.relayBaseUrl,
            keyEnv: 'SORA_RELAY_KEY',
            maxConcurrency: 3,
            expectedJobSeconds: 0.3,
          },
          {
            name: 'official',
            contract: 'official',
            baseUrl: sim.officialBaseUrl,
            keyEnv: 'SORA_OFFICIAL_KEY',
            model: 'sora-2',
            maxConcurrency: 4,
            expectedJobSeconds: 0.3,
          },
        ],
      }),
    );
    const common = {
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_POLL_MS: '100',
      LOG_LEVEL: 'debug',
      [ALLOW_PRIVATE_URLS_ENV]: '1',
    };
    envA = {
      ...common,
      SORA_SERIES_TASK_QUEUE: `secrets-a-${Date.now()}`,
      SORA_SERIES_PROVIDERS: providersFile,
      SORA_SERIES_DATA_DIR: join(dir, 'data-a'),
      SORA_RELAY_KEY: KEYS.relay,
      SORA_OFFICIAL_KEY: KEYS.official,
      LEAKY_ACCESS: KEYS.leaky,
    };
    envB = {
      ...common,
      SORA_SERIES_TASK_QUEUE: `secrets-b-${Date.now()}`,
      SORA_SIMULATOR_URL: wrongSim.url,
      [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(wrongSim.url, dir),
      SORA_SERIES_DATA_DIR: join(dir, 'data-b'),
      SORA_RELAY_KEY: KEYS.wrongRelay,
      SORA_OFFICIAL_KEY: KEYS.wrongOfficial,
    };
    workerA = spawnWorker(envA);
    workerB = spawnWorker(envB);
    connection = await Connection.connect({ address: temporalAddress() });
    client = new Client({ connection });
  });

  afterAll(async () => {
    for (const worker of [workerA, workerB]) {
      worker?.kill('SIGTERM');
      if (worker) await exited(worker);
    }
    await connection?.close();
    await new Promise((resolve) => leaky?.close(resolve));
    await sim?.close();
    await wrongSim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(what: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
    const run = await runCli(args, env, 120_000);
    cliRuns.push({ what, ...run });
    return run;
  }

  const spec = (name: string, simulator: RunningSimulator, providers: string[]) => ({
    name,
    character: { name: 'Mira', description: 'a courier in a yellow raincoat', clip: `${simulator.url}/clips/mira.mp4` },
    providers,
    scenes: [
      { prompt: '@character runs along the harbor wall' },
      { prompt: '@character opens a FORBIDDEN door' },
      { prompt: '@character climbs the lighthouse stairs' },
      { prompt: '@character watches the ferry leave' },
    ],
  });

  test('a series through an echoing relay, a relay going 403 and a rejected scene; and a worker with wrong keys', async () => {
    sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403, afterCalls: 2 } } }, rejectWord: 'FORBIDDEN' });
    wrongSim.setScenario({ rejectWord: 'FORBIDDEN' });
    const nameA = `secrets-a-${Date.now()}`;
    const nameB = `secrets-b-${Date.now()}`;
    const fileA = join(dir, `${nameA}.json`);
    const fileB = join(dir, `${nameB}.json`);
    await writeFile(fileA, JSON.stringify(spec(nameA, sim, ['leaky', 'relay', 'official'])));
    await writeFile(fileB, JSON.stringify(spec(nameB, wrongSim, ['relay', 'official'])));

    await cli('validate A', ['validate', fileA], envA);
    const [runA, runB] = await Promise.all([
      cli('start A', ['start', fileA, '--wait', '--json'], envA),
      cli('start B', ['start', fileB, '--wait', '--json'], envB),
    ]);
    expect(runA.stderr).toBe('');
    const reportA = JSON.parse(runA.stdout);
    await cli('status A', ['status', `series/${nameA}`, '--json'], envA);
    await cli('status A (text)', ['status', `series/${nameA}`], envA);
    await cli('status B', ['status', `series/${nameB}`, '--json'], envB);
    await cli('status B (text)', ['status', `series/${nameB}`], envB);

    // The failure paths really happened (so the scan below looked at their text)
    expect(leakySeen).toContain(`Bearer ${KEYS.leaky}`); // the echoing relay got the key...
    expect(reportA.scenes.some((s: { status: string }) => s.status === 'rejected')).toBe(true);
    expect(
      reportA.scenes.some(
        (s: { provider?: string; status: string }) => s.provider === 'official' && s.status === 'completed',
      ),
    ).toBe(true);
    expect(runB.code).not.toBe(0); // wrong keys everywhere: the series cannot complete
    expect(runB.code).not.toBe(2);
    expect(workerB.output()).toMatch(/invalid_api_key|token_invalidated|Incorrect API key|authentication token/);

    // Histories: the series and every scene of both queues, payloads decoded
    const histories: string[] = [];
    for (const queue of [envA.SORA_SERIES_TASK_QUEUE, envB.SORA_SERIES_TASK_QUEUE]) {
      for await (const execution of client.workflow.list({ query: `TaskQueue = "${queue}"` })) {
        const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
        histories.push(historyText(history));
      }
    }
    expect(histories.length).toBeGreaterThanOrEqual(2 + 4); // two series, their scenes
    const allHistory = histories.join('\n');

    const manifests: string[] = [];
    for (const file of [...(await filesUnder(join(dir, 'data-a'))), ...(await filesUnder(join(dir, 'data-b')))]) {
      if (file.endsWith('.json')) manifests.push(await readFile(file, 'utf8'));
    }
    expect(manifests.length).toBeGreaterThanOrEqual(1);
    expect(reportA.manifestPath && manifests.some((m) => m.includes(nameA))).toBeTruthy();

    const logs = `${workerA.output()}\n${workerB.output()}`;
    expect(logs).toMatch(/"msg":"take submitted"/); // real worker output, at debug level

    const found = {
      histories: findSecrets(allHistory),
      workerLogs: findSecrets(logs),
      manifests: findSecrets(manifests.join('\n')),
      cli: cliRuns
        .map((r) => ({ what: r.what, found: findSecrets(`${r.stdout}\n${r.stderr}`) }))
        .filter((r) => r.found.length),
    };
    expect(found).toEqual({ histories: [], workerLogs: [], manifests: [], cli: [] });

    // ...and the scan looked at the right text: payloads decoded, the echoed error there with its key blanked
    expect(allHistory.includes('lighthouse stairs')).toBe(true);
    expect(allHistory.includes('is not valid here (got \\"Bearer [redacted]')).toBe(true);
    expect(logs.includes('is not valid here')).toBe(true);
  });
});
