/**
 * Payload encryption end to end, on real processes: worker processes with SORA_SERIES_CODEC_KEYS,
 * series started and read by the real CLI, raw history read from the server by the `temporal`
 * CLI without any codec (nothing of the prompts, descriptions or URLs may be there), the same
 * history decoded through `sora-series codec-server` (all of it must be there: the scan can
 * fail), failure messages encrypted too, and a key rotation in the middle of a running series.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../common/codec/encryption-codec';
import { CODEC_KEYS_ENV, codecKeysFromEnv, CodecKeysError } from '../common/codec/keys';
import { checkWorkerPolls } from '../client/commands/healthcheck';
import { temporalSettings } from '../common/temporal/settings';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { temporalAddress } from './helpers/harness';
import { CLI, exited, runCli, spawnWorker } from './helpers/processes';
import { relayAndOfficialFile } from './helpers/sora-pair';
import { PROVIDERS_FILE_ENV } from '../workflows/provider-rules';

const run = promisify(execFile);
const key = () => randomBytes(32).toString('base64');
const KEY_A = key();
const KEY_B = key();
const KEYS_A = `a:${KEY_A}`;
const KEYS_ROTATED = `b:${KEY_B},a:${KEY_A}`;
const CODEC_TOKEN = `codec-token-${randomBytes(8).toString('hex')}`;
const marker = (what: string) => `${what}${randomBytes(6).toString('hex')}`;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The JSON plus every base64 string in it decoded: payload bytes are base64 in the CLI's JSON. */
function readable(json: string): string {
  const decoded: string[] = [];
  JSON.parse(json, (_k, value: unknown) => {
    if (typeof value === 'string' && value.length >= 8 && BASE64.test(value))
      decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return `${json}\n${decoded.join('\n')}`;
}

/** Key ids of the encrypted payloads in a history dump. */
function keyIds(json: string): Set<string> {
  const ids = new Set<string>();
  JSON.parse(json, (k, value: unknown) => {
    if (k === KEY_ID_METADATA && typeof value === 'string') ids.add(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return ids;
}

/** The `temporal` CLI without any codec setting from the caller's environment. */
function cliEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_CODEC_')));
}

async function historyJson(workflowId: string, codec?: { endpoint: string; auth: string }): Promise<string> {
  const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
  const args = [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--address',
    temporalAddress(),
    '--namespace',
    'default',
    '--output',
    'json',
  ];
  if (codec) args.push('--codec-endpoint', codec.endpoint, '--codec-auth', codec.auth);
  const { stdout } = await run(cli, args, { env: cliEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

describe('payload encryption', () => {
  let sim: RunningSimulator;
  let dir: string;
  let connection: Connection;
  let raw: Client; // no codec: what anyone with server access sees
  let baseEnv: NodeJS.ProcessEnv;
  let workerA: ReturnType<typeof spawnWorker> | undefined;
  let workerRotated: ReturnType<typeof spawnWorker> | undefined;
  let codecServer: ChildProcess;
  let codecUrl: string;
  const codecOutput: string[] = [];
  const cliOutput: string[] = [];
  const cli = async (args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number) => {
    const result = await runCli(args, env, timeoutMs);
    cliOutput.push(result.stdout, result.stderr);
    return result;
  };

  const startWorker = async (keys: string) => {
    const worker = spawnWorker({ ...baseEnv, [CODEC_KEYS_ENV]: keys });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const health = await checkWorkerPolls(temporalSettings(baseEnv), { exact: `${worker.pid}@${hostname()}` });
      if (health.healthy) return worker;
      if (worker.exitCode !== null || Date.now() > deadline)
        throw new Error(`worker not polling: ${health.detail}\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const stop = async (worker: ReturnType<typeof spawnWorker> | undefined) => {
    if (!worker || worker.exitCode !== null) return;
    worker.kill('SIGTERM');
    await exited(worker);
  };

  const writeSpec = async (spec: object) => {
    const file = join(dir, `${(spec as { name: string }).name}.json`);
    await writeFile(file, JSON.stringify(spec));
    return file;
  };

  /** The histories of the series and its scenes, one JSON document each; raw unless a codec endpoint is given. */
  const allHistories = async (seriesId: string, codec?: { endpoint: string; auth: string }) => {
    const ids = [seriesId];
    for await (const wf of raw.workflow.list({ query: `SeriesId = "${seriesId}"` })) ids.push(wf.workflowId);
    return Promise.all(ids.map((id) => historyJson(id, codec)));
  };

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 5,
      jobSeconds: 0.5,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    dir = await mkdtemp(join(tmpdir(), 'sora-encryption-'));
    baseEnv = {
      ...SIMULATOR_KEYS,
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_TASK_QUEUE: `encryption-${Date.now()}`,
      SORA_SIMULATOR_URL: sim.url,
      [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(sim.url, dir),
      SORA_SERIES_DATA_DIR: join(dir, 'data'),
      SORA_SERIES_POLL_MS: '100',
      SORA_SERIES_METRICS_ADDRESS: 'off',
      SORA_SERIES_ALLOW_PRIVATE_URLS: '1',
      LOG_LEVEL: 'debug', // the most a worker ever says
    };
    connection = await Connection.connect({ address: temporalAddress() });
    raw = new Client({ connection });
    workerA = await startWorker(KEYS_A);
    // The real command, on a free port; it knows both keys, as after a rotation.
    codecServer = spawn(process.execPath, [CLI, 'codec-server', '--port', '0'], {
      env: {
        ...process.env,
        [CODEC_KEYS_ENV]: KEYS_ROTATED,
        SORA_SERIES_CODEC_AUTH_TOKEN: CODEC_TOKEN,
        SORA_SERIES_CODEC_CORS_ORIGINS: 'http://localhost:8233',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    codecServer.stdout!.on('data', (d: Buffer) => codecOutput.push(d.toString()));
    codecServer.stderr!.on('data', (d: Buffer) => codecOutput.push(d.toString()));
    const deadline = Date.now() + 20_000;
    while (!/codec server: (http:\S+)/.test(codecOutput.join(''))) {
      if (codecServer.exitCode !== null || Date.now() > deadline)
        throw new Error(`codec-server did not start:\n${codecOutput.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    codecUrl = /codec server: (http:\S+)/.exec(codecOutput.join(''))![1];
  });

  afterAll(async () => {
    await stop(workerA);
    await stop(workerRotated);
    codecServer?.kill('SIGTERM');
    if (codecServer) expect(await exited(codecServer)).toBe(0);
    await connection?.close();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const codec = () => ({ endpoint: codecUrl, auth: `Bearer ${CODEC_TOKEN}` });

  test('a series on an encrypting worker: results read in clear with the key, the server holds none of the prompt, description or URLs', async () => {
    const prompt = marker('harborwalk');
    const description = marker('yellowraincoat');
    const clipName = marker('clipfile');
    const name = `enc-${Date.now()}`;
    const file = await writeSpec({
      name,
      character: {
        name: 'Mira',
        description: `a courier in a ${description}`,
        clip: `${sim.url}/clips/${clipName}.mp4`,
      },
      providers: ['relay', 'official'],
      scenes: [
        { prompt: `@character ${prompt} along the harbor wall` },
        { prompt: `@character ${prompt} up the lighthouse` },
      ],
    });
    const started = await cli(['start', file, '--wait', '--json'], { ...baseEnv, [CODEC_KEYS_ENV]: KEYS_A }, 120_000);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const report = JSON.parse(started.stdout) as { status: string; scenes: Array<{ status: string; sha256: string }> };
    expect(report.status).toBe('completed');
    expect(report.scenes.map((s) => s.status)).toEqual(['completed', 'completed']);
    expect(report.scenes.every((s) => /^[0-9a-f]{64}$/.test(s.sha256))).toBe(true);

    const stored = await allHistories(`series/${name}`);
    expect(stored).toHaveLength(3);
    const text = stored.map(readable).join('\n');
    const simHost = new URL(sim.url).host;
    for (const secret of [prompt, description, clipName, simHost]) expect(text).not.toContain(secret);
    expect(text).toContain(ENCRYPTED_ENCODING);
    expect(new Set(stored.flatMap((h) => [...keyIds(h)]))).toEqual(new Set(['a']));

    // The control: decoded through the codec endpoint, all of it is there.
    const decoded = (await allHistories(`series/${name}`, codec())).map(readable).join('\n');
    for (const secret of [prompt, description, clipName, simHost]) expect(decoded).toContain(secret);
    expect(decoded).not.toContain(ENCRYPTED_ENCODING);
  });

  test('failure messages are encrypted too (a clip URL that answers 404 is quoted in the failure)', async () => {
    const missing = marker('missingclip');
    const name = `enc-fail-${Date.now()}`;
    const file = await writeSpec({
      name,
      character: { name: 'Mira', description: 'a courier', clip: `${sim.url}/nothing-here/${missing}.mp4` },
      providers: ['relay'],
      scenes: [{ prompt: '@character waves' }],
    });
    const started = await cli(['start', file, '--wait', '--json'], { ...baseEnv, [CODEC_KEYS_ENV]: KEYS_A }, 120_000);
    expect(started.code).toBe(1); // the series did not complete
    const stored = (await allHistories(`series/${name}`)).map(readable).join('\n');
    expect(stored).not.toContain(missing);
    expect(stored).toContain('Encoded failure');
    const decoded = (await allHistories(`series/${name}`, codec())).map(readable).join('\n');
    expect(decoded).toMatch(new RegExp(`nothing-here/${missing}\\.mp4 answered HTTP 404`));
  });

  test('rotation: a series written with key a finishes on a worker whose keys are "b,a"; new events use b; a client without a is told which key is missing', async () => {
    const name = `enc-rotate-${Date.now()}`;
    const file = await writeSpec({
      name,
      character: { name: 'Mira', description: 'a courier', clip: `${sim.url}/clips/mira.mp4` },
      providers: ['relay'],
      maxParallel: 1,
      scenes: Array.from({ length: 4 }, (_, i) => ({ prompt: `@character scene ${i + 1}` })),
    });
    const started = await cli(['start', file, '--json'], { ...baseEnv, [CODEC_KEYS_ENV]: KEYS_A });
    expect(started.code).toBe(0);
    const id = `series/${name}`;
    // Rotate once the first scene is done: the rest of the series runs on the new worker.
    const handle = raw.workflow.getHandle(id);
    const deadline = Date.now() + 60_000;
    const childDone = temporal.api.enums.v1.EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED;
    while (!(await handle.fetchHistory()).events?.some((e) => e.eventType === childDone)) {
      if (Date.now() > deadline) throw new Error('no scene finished within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    await stop(workerA);
    workerRotated = await startWorker(KEYS_ROTATED);

    const waited = await cli(['status', id, '--json'], { ...baseEnv, [CODEC_KEYS_ENV]: KEYS_ROTATED });
    expect(waited.code).toBe(0);
    const rotatedClient = new Client({
      connection,
      dataConverter: { payloadCodecs: [new EncryptionCodec(codecKeysFromEnv({ [CODEC_KEYS_ENV]: KEYS_ROTATED })!)] },
    });
    await rotatedClient.workflow.getHandle(id).result();
    const final = await cli(['status', id, '--json'], { ...baseEnv, [CODEC_KEYS_ENV]: KEYS_ROTATED });
    expect(JSON.parse(final.stdout)).toMatchObject({ status: 'completed', scenesDone: 4 });
    expect(keyIds(await historyJson(id))).toEqual(new Set(['a', 'b']));

    const withoutA = await cli(['status', id, '--json'], { ...baseEnv, [CODEC_KEYS_ENV]: `b:${KEY_B}` });
    expect(withoutA.code).toBe(2);
    expect(withoutA.stderr).toMatch(
      /payload encrypted with key "a", which SORA_SERIES_CODEC_KEYS does not hold \(it has b\): add that key back/,
    );
    for (const k of [KEY_A, KEY_B]) expect(withoutA.stderr + withoutA.stdout).not.toContain(k);
  });

  test('no key or token in any output: workers, CLI runs, codec server', () => {
    const outputs = [workerA?.output() ?? '', workerRotated?.output() ?? '', ...cliOutput, ...codecOutput].join('\n');
    expect(outputs.length).toBeGreaterThan(0);
    for (const secret of [KEY_A, KEY_B, CODEC_TOKEN]) expect(outputs).not.toContain(secret);
  });

  describe('the codec endpoint speaks the codec server protocol', () => {
    const post = (
      path: string,
      body: unknown,
      headers: Record<string, string> = { authorization: `Bearer ${CODEC_TOKEN}` },
    ) =>
      fetch(`${codecUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });

    test('encode then decode round-trips, under a namespace prefix too; new payloads use the first key', async () => {
      const plain = {
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: Buffer.from('{"prompt":"hello"}').toString('base64'),
      };
      const encoded = (await (await post('/encode', { payloads: [plain] })).json()) as {
        payloads: Array<{ metadata: Record<string, string>; data: string }>;
      };
      expect(Buffer.from(encoded.payloads[0].metadata[KEY_ID_METADATA], 'base64').toString()).toBe('b');
      expect(Buffer.from(encoded.payloads[0].data, 'base64').toString('latin1')).not.toContain('hello');
      const decoded = await post('/default/decode', encoded);
      expect(decoded.status).toBe(200);
      expect(await decoded.json()).toEqual({ payloads: [plain] });
    });

    test('refused: no or a wrong token (401), bad JSON (400), a key it lacks (400, naming the key id only), other paths (404)', async () => {
      expect((await post('/decode', { payloads: [] }, {})).status).toBe(401);
      expect((await post('/decode', { payloads: [] }, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await post('/decode', '{not json')).status).toBe(400);
      const foreign = await new EncryptionCodec([{ id: 'zz', key: randomBytes(32) }]).encode([
        { metadata: {}, data: Buffer.from('x') },
      ]);
      const unknownKey = await post('/decode', {
        payloads: foreign.map((p) => ({
          metadata: {
            encoding: Buffer.from(p.metadata!.encoding!).toString('base64'),
            [KEY_ID_METADATA]: Buffer.from(p.metadata![KEY_ID_METADATA]!).toString('base64'),
          },
          data: Buffer.from(p.data!).toString('base64'),
        })),
      });
      expect(unknownKey.status).toBe(400);
      expect(((await unknownKey.json()) as { error: string }).error).toMatch(
        /key "zz", which SORA_SERIES_CODEC_KEYS does not hold \(it has b, a\)/,
      );
      expect((await post('/other', {})).status).toBe(404);
      expect(codecOutput.join('')).not.toContain(KEY_A);
    });

    test('CORS: the configured UI origin may call it (credentials included), any other origin is not answered', async () => {
      const preflight = (origin: string) =>
        fetch(`${codecUrl}/decode`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-namespace,authorization',
          },
        });
      const ok = await preflight('http://localhost:8233');
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
      expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
      const evil = await preflight('http://evil.example');
      expect(evil.status).toBe(403);
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});

describe('codec keys and the codec itself', () => {
  test('keys: first encrypts, all decode; bad lists are refused naming the entry and never the key', () => {
    expect(codecKeysFromEnv({})).toBeUndefined();
    expect(codecKeysFromEnv({ [CODEC_KEYS_ENV]: ' ' })).toBeUndefined();
    expect(codecKeysFromEnv({ [CODEC_KEYS_ENV]: KEYS_ROTATED })!.map((k) => k.id)).toEqual(['b', 'a']);
    const short = randomBytes(16).toString('base64');
    const refuse = (value: string) => () => codecKeysFromEnv({ [CODEC_KEYS_ENV]: value });
    expect(refuse(`k1:${short}`)).toThrow(
      new CodecKeysError(
        `SORA_SERIES_CODEC_KEYS: entry 1: key "k1" is 16 bytes; AES-256 needs 32 bytes; generate a key with \`openssl rand -base64 32\` and list keys as "id:base64key,older-id:base64key"`,
      ),
    );
    expect(refuse(`a:${KEY_A},${KEY_B}`)).toThrow(/entry 2: needs an id/);
    expect(refuse(`a:${KEY_A},a:${KEY_B}`)).toThrow(/key id "a" appears twice/);
    expect(refuse('a:not base64!')).toThrow(/key "a" is not base64/);
    try {
      refuse(`a:${KEY_A},b:${short}`)();
    } catch (err) {
      expect((err as Error).message).not.toContain(short);
      expect((err as Error).message).not.toContain(KEY_A);
    }
  });

  test('a tampered payload or the wrong key under the right id fails authentication; plain payloads pass through', async () => {
    const codec = new EncryptionCodec(codecKeysFromEnv({ [CODEC_KEYS_ENV]: KEYS_A })!);
    const [encrypted] = await codec.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"secret"') },
    ]);
    const tampered = { ...encrypted, data: Buffer.from(encrypted.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(codec.decode([tampered])).rejects.toThrow(PayloadDecryptionError);
    const impostor = new EncryptionCodec([{ id: 'a', key: randomBytes(32) }]);
    await expect(impostor.decode([encrypted])).rejects.toThrow(/key id "a" failed authentication/);
    const plain = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"old"') };
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});
