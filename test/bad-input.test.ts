/**
 * Bad input is refused with the field and the fix, before any workflow starts or any upstream is
 * called. In process for the spec rules (fast), through the built CLI against a live worker and
 * simulator (nothing starts, the ledger does not move), and through a real worker whose SSRF
 * guard re-checks clip URLs after DNS and on every redirect.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ActivityFailure,
  ApplicationFailure,
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { defaultProviderConfig } from '../activities/providers/config';
import { profilesOf } from '../activities/providers/registry';
import { guardedGet, systemLookup, UrlRefusedError, type HostLookup } from '../activities/url-guard';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { loadSpec, MAX_SPEC_FILE_BYTES } from '../client/spec/load-spec';
import { parseSpec, SpecError } from '../client/spec/parse-spec';
import { toSeriesInput } from '../client/spec/series-input';
import {
  ALLOW_ALL_PRIVATE,
  ALLOW_PRIVATE_URLS_ENV,
  checkUrl,
  nonPublicRange,
  parseAllowance,
  PUBLIC_ONLY,
} from '../common/url-policy';
import { CONTRACTS, startSimulator, type RunningSimulator } from '../simulator/server';
import { failureTypeOf } from '../workflows/failures';
import { activityDepsFromEnv, WorkerSettingsError } from '../workers/activity-deps';
import { createSeriesWorker, DEFAULT_MAX_CACHED_WORKFLOWS, maxCachedWorkflowsFromEnv } from '../workers/series-worker';
import { temporalAddress, workflowBundle } from './helpers/harness';
import { runCli } from './helpers/processes';
import { recordMeasurement } from './helpers/measurements';
import { specIssues } from './helpers/specs';
import { relayAndOfficial, relayAndOfficialFile } from './helpers/sora-pair';
import { PROVIDERS_FILE_ENV } from '../workflows/provider-rules';

const profiles = profilesOf(relayAndOfficial({ url: 'http://127.0.0.1:7070' }));

const valid = {
  name: 'harbor',
  character: { name: 'Mira', description: 'a courier in a yellow raincoat', clip: 'https://cdn.example/mira.mp4' },
  providers: ['relay', 'official'], // the refusals below are worded for this pair's limits
  scenes: [{ prompt: '@character waves from the quay' }],
};
const withClip = (clip: string) => ({ ...valid, character: { ...valid.character, clip } });
const withScene = (scene: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
  ...valid,
  ...rest,
  scenes: [{ prompt: '@character waves', ...scene }],
});

const issuesOf = (spec: unknown, options: Parameters<typeof parseSpec>[2] = { urlPolicy: PUBLIC_ONLY, profiles }) =>
  specIssues(spec, options);

/** One issue starts with the field and says how to fix it. */
function expectIssue(issues: string[], field: string, fix: RegExp): void {
  const match = issues.find((i) => i.startsWith(field) && fix.test(i));
  if (!match) throw new Error(`no issue for ${field} matching ${fix}; got:\n  ${issues.join('\n  ')}`);
  // a refused private host always says how to allow one on purpose
  if (/points at \S+, which is/.test(match))
    expect(match).toMatch(
      /source clips must come from a public host\. .*set SORA_SERIES_ALLOW_PRIVATE_URLS=1 \(or a list of allowed hosts/,
    );
}

/** Bad inputs refused in this file, for `npm run reliability`. */
let refused = 0;
afterAll(() => recordMeasurement('bad_inputs_refused', refused));

describe('bad specs are refused with the field and the fix', () => {
  test('the valid base spec passes (so each case below fails for its own reason)', () => {
    expect(() => parseSpec(valid, undefined, { urlPolicy: PUBLIC_ONLY, profiles })).not.toThrow();
  });

  // [case, spec, field the message starts with, what the fix says]
  const cases: Array<[string, unknown, string, RegExp]> = [
    // top level and types
    ['a list at the top level', [valid], '(spec)', /must be a mapping with name, character and scenes \(got a list\)/],
    ['a bare string at the top level', 'harbor', '(spec)', /must be a mapping .*got "harbor"/],
    ['an empty document (null)', null, '(spec)', /must be a mapping .*got nothing/],
    ['a name of the wrong type', { ...valid, name: 42 }, 'name', /must be text \(got 42\)/],
    [
      'scenes given as a mapping',
      { ...valid, scenes: { first: { prompt: 'x' } } },
      'scenes',
      /must be a list \(got a mapping\)/,
    ],
    [
      'seconds quoted as text',
      withScene({ seconds: '10' }),
      'scenes[0].seconds',
      /must be a number \(got "10"\); write 10 without quotes/,
    ],
    ['fractional seconds', withScene({ seconds: 2.5 }), 'scenes[0].seconds', /must be a whole number/],
    ['zero seconds', withScene({ seconds: 0 }), 'scenes[0].seconds', /must be more than 0 seconds/],
    ['a size of the wrong type', withScene({ size: 720 }), 'scenes[0].size', /must be one of 720x1280, 1280x720/],
    [
      'a missing character description',
      { ...valid, character: { name: 'Mira', clip: valid.character.clip } },
      'character.description',
      /is required: describe how the character looks/,
    ],
    [
      'an oversize character description',
      { ...valid, character: { ...valid.character, description: 'x'.repeat(1001) } },
      'character.description',
      /must be at most 1000 characters/,
    ],
    ['an empty providers list', { ...valid, providers: [] }, 'providers', /list at least one provider/],
    ['maxParallel of 0', { ...valid, maxParallel: 0 }, 'maxParallel', /must be at least 1/],
    ['maxParallel over 100', { ...valid, maxParallel: 500 }, 'maxParallel', /must be at most 100/],
    [
      'a zero budget',
      { ...valid, budgetUsd: 0 },
      'budgetUsd',
      /must be more than 0 \(USD\); leave it out for no budget/,
    ],
    [
      'a budget given as text',
      { ...valid, budgetUsd: 'ten dollars' },
      'budgetUsd',
      /must be a number \(got "ten dollars"\)/,
    ],
    ['an infinite budget (YAML .inf)', { ...valid, budgetUsd: Infinity }, 'budgetUsd', /must be a finite number/],
    // unknown fields, nested too
    [
      'an unknown field in character',
      { ...valid, character: { ...valid.character, voice: 'low' } },
      'character',
      /unknown field "voice" \(.*character takes name, description, clip, adopt, extract/,
    ],
    [
      'a misspelt scene field',
      { ...valid, scenes: [{ prompt: 'x', sise: '720x1280' }] },
      'scenes[0]',
      /unknown field "sise" \(did you mean "size"\?/,
    ],
    [
      'a scene "duration" (it is seconds)',
      withScene({ duration: 10 }),
      'scenes[0]',
      /unknown field "duration" \(did you mean "seconds"\?/,
    ],
    [
      'an unknown field in defaults',
      { ...valid, defaults: { seconds: 10, fps: 24 } },
      'defaults',
      /unknown field "fps" .*defaults takes seconds, size, model/,
    ],
    [
      'an unknown field in character.extract',
      { ...valid, character: { name: 'M', description: 'd', extract: { provider: 'relay', task: 't', at: 3 } } },
      'character.extract',
      /unknown field "at"/,
    ],
    [
      'a key pasted into the spec',
      { ...valid, apiKey: 'sk-live-123' },
      '(spec)',
      /unknown field "apiKey" \(keys never go in a spec/,
    ],
    [
      '"character" and "characters" both',
      { ...valid, characters: [valid.character] },
      'characters',
      /give either character: \(one character, @character\) or characters: .*, not both/,
    ],
    // prompts
    [
      'a prompt with control characters',
      withScene({ prompt: '@character waves\u0000' }),
      'scenes[0].prompt',
      /control characters .*remove them/,
    ],
    [
      'a prompt over the limit by one',
      withScene({ prompt: `@character ${'y'.repeat(3990)}` }),
      'scenes[0].prompt',
      /must be at most 4000 characters; split the scene/,
    ],
    // characters: one per series
    [
      'a second character mentioned in a prompt',
      withScene({ prompt: '@character meets @char_bob at the pier' }),
      'scenes[0].prompt',
      /mentions @char_bob: a series has one character.*at most 2 per video/,
    ],
    [
      '@Character in the wrong case',
      withScene({ prompt: '@Character waves' }),
      'scenes[0].prompt',
      /exactly @character \(lowercase\)/,
    ],
    [
      'adopt naming a provider the series does not use',
      {
        ...valid,
        providers: ['relay'],
        character: { ...valid.character, adopt: { relay: 'char_a', official: 'char_b' } },
      },
      'character.adopt.official',
      /not in providers \[relay\]; add it there or remove this id/,
    ],
    [
      'adopt with two ids for one provider',
      { ...valid, character: { ...valid.character, adopt: { relay: ['char_a', 'char_b'] } } },
      'character.adopt.relay',
      /one id per provider/,
    ],
    [
      'adopt with a mention instead of an id',
      { ...valid, character: { ...valid.character, adopt: { relay: '@char_a' } } },
      'character.adopt.relay',
      /bare character id/,
    ],
    [
      'an empty adopt map',
      { ...valid, character: { name: 'M', description: 'd', adopt: {} } },
      'character.adopt',
      /names no id/,
    ],
    // what the providers can render (profiles)
    [
      'a scene pinned to relay at 1280x720',
      withScene({ provider: 'relay', size: '1280x720' }),
      'scenes[0].size',
      /1280x720 is not a size relay renders \(it renders 720x1280\); use one of those or pin the scene to official/,
    ],
    [
      'a scene pinned to relay longer than it renders',
      withScene({ provider: 'relay', seconds: 20 }),
      'scenes[0].seconds',
      /20 s is longer than relay renders \(10, 15 s\); use at most 15/,
    ],
    [
      'a scene pinned to official longer than 12 s',
      withScene({ provider: 'official', seconds: 15 }),
      'scenes[0].seconds',
      /longer than official renders .*or pin the scene to relay/,
    ],
    [
      'a default size the only provider lacks',
      { ...valid, providers: ['relay'], defaults: { size: '1280x720' } },
      'scenes[0].size',
      /1280x720 \(from defaults.size\) is not rendered by any provider in providers \[relay\]; use 720x1280 or add official/,
    ],
    [
      'a size no configured provider renders',
      withScene({ size: '1920x1080' }),
      'scenes[0].size',
      /not rendered by any provider/,
    ],
    [
      'seconds no allowed provider fits',
      { ...valid, providers: ['official'], defaults: { seconds: 16 } },
      'scenes[0].seconds',
      /16 s \(from defaults.seconds\) is longer than any provider .*use at most 12/,
    ],
    [
      'a provider that is not configured',
      { ...valid, providers: ['relay', 'runway'] },
      'providers[1]',
      /"runway" is not configured \(configured: relay, official\); remove it or add it to the provider config/,
    ],
    [
      'extract on a contract that cannot extract',
      {
        ...valid,
        providers: ['official', 'relay'],
        character: { name: 'M', description: 'd', extract: { provider: 'official', task: 't' } },
      },
      'character.extract.provider',
      /cannot make a character from a task; extract on relay/,
    ],
    [
      'a series too large for a workflow input',
      { ...valid, scenes: Array.from({ length: 300 }, () => ({ prompt: `@character ${'z'.repeat(3900)}` })) },
      'scenes',
      /MB as workflow input.*split it into several series/,
    ],
    // URLs: scheme, credentials
    [
      'a javascript: clip URL',
      withClip('javascript:alert(1)'),
      'character.clip',
      /must be an http\(s\) URL \(got javascript:\)/,
    ],
    ['a bare file name as clip', withClip('mira.mp4'), 'character.clip', /must be an http\(s\) URL, e\.g\. https:/],
    [
      'a token in the userinfo',
      withClip('https://ghp_abc123@cdn.example/mira.mp4'),
      'character.clip',
      /must not carry credentials/,
    ],
    [
      'an api_key query parameter',
      withClip('https://cdn.example/mira.mp4?api_key=abc123'),
      'character.clip',
      /must not carry credentials \(the "api_key" query parameter/,
    ],
    // URLs: SSRF (literal hosts)
    [
      'loopback 127.0.0.1',
      withClip('http://127.0.0.1:7070/clips/mira.mp4'),
      'character.clip',
      /loopback \(127\.0\.0\.0\/8\).*SORA_SERIES_ALLOW_PRIVATE_URLS=1/,
    ],
    ['loopback elsewhere in 127/8', withClip('http://127.8.9.10/c.mp4'), 'character.clip', /loopback/],
    ['10/8', withClip('http://10.1.2.3/c.mp4'), 'character.clip', /private network \(10\.0\.0\.0\/8\)/],
    ['172.16/12', withClip('https://172.20.0.5/c.mp4'), 'character.clip', /private network \(172\.16\.0\.0\/12\)/],
    [
      '192.168/16',
      withClip('http://192.168.1.10:8080/c.mp4'),
      'character.clip',
      /private network \(192\.168\.0\.0\/16\)/,
    ],
    [
      'the cloud metadata address',
      withClip('http://169.254.169.254/latest/meta-data/'),
      'character.clip',
      /link-local \(169\.254\.0\.0\/16/,
    ],
    ['IPv6 loopback', withClip('http://[::1]:7070/c.mp4'), 'character.clip', /loopback \(::1\)/],
    [
      'IPv6 unique local',
      withClip('http://[fd12:3456::7]/c.mp4'),
      'character.clip',
      /unique local IPv6 network \(fc00::\/7\)/,
    ],
    ['IPv6 link-local', withClip('http://[fe80::1]/c.mp4'), 'character.clip', /link-local IPv6 \(fe80::\/10\)/],
    ['IPv4-mapped IPv6', withClip('http://[::ffff:10.0.0.1]/c.mp4'), 'character.clip', /10\.0\.0\.0\/8.*IPv4-mapped/],
    ['localhost', withClip('http://localhost:7070/c.mp4'), 'character.clip', /this machine \(localhost\)/],
    [
      'a localhost subdomain with a trailing dot',
      withClip('http://cdn.localhost./c.mp4'),
      'character.clip',
      /this machine/,
    ],
    ['0.0.0.0', withClip('http://0.0.0.0:7070/c.mp4'), 'character.clip', /"this host" range \(0\.0\.0\.0\/8\)/],
    [
      'loopback written as a decimal number',
      withClip('http://2130706433/c.mp4'),
      'character.clip',
      /points at 127\.0\.0\.1, which is loopback/,
    ],
    ['loopback written in hex', withClip('http://0x7f.1/c.mp4'), 'character.clip', /loopback/],
  ];

  test.each(cases)('refuses %s', (_label, spec, field, fix) => {
    refused++;
    expectIssue(issuesOf(spec), field, fix);
  });

  test('every problem of a spec is named at once', () => {
    const issues = issuesOf({
      ...valid,
      character: { ...valid.character, clip: 'http://10.0.0.1/c.mp4', voice: 1 },
      scenes: [{ prompt: '' }, { prompt: 'x', seconds: -1 }],
    });
    expect(issues.length).toBeGreaterThanOrEqual(4);
  });

  test('private hosts pass when allowed: all, or exactly the listed host:port', () => {
    const loopback = withClip('http://127.0.0.1:7070/clips/mira.mp4');
    expect(() => parseSpec(loopback, undefined, { urlPolicy: ALLOW_ALL_PRIVATE, profiles })).not.toThrow();
    expect(() =>
      parseSpec(loopback, undefined, { urlPolicy: parseAllowance('127.0.0.1:7070'), profiles }),
    ).not.toThrow();
    expectIssue(
      issuesOf(loopback, { urlPolicy: parseAllowance('127.0.0.1:7071,cdn.internal'), profiles }),
      'character.clip',
      /loopback/,
    );
    // the allowance never excuses credentials or a wrong scheme
    expectIssue(
      issuesOf(withClip('http://u:p@127.0.0.1:7070/c.mp4'), { urlPolicy: ALLOW_ALL_PRIVATE, profiles }),
      'character.clip',
      /credentials/,
    );
    // and public neighbours of private ranges are not refused
    for (const host of ['172.32.0.1', '100.128.0.1', '11.0.0.1', '[2001:4860:4860::8888]', 'cdn.example']) {
      expect(checkUrl(`https://${host}/c.mp4`, PUBLIC_ONLY)).toBeUndefined();
    }
  });

  test('addresses as DNS returns them are classified too (what the worker checks)', () => {
    const privateOnes = [
      '127.0.0.1',
      '10.255.255.255',
      '172.31.0.1',
      '192.168.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      '::',
      'fc00::1',
      'fe80::abcd',
      '::ffff:192.168.1.1',
      '64:ff9b::7f00:1',
    ];
    for (const ip of privateOnes) expect([ip, nonPublicRange(ip)]).toEqual([ip, expect.any(String)]);
    for (const ip of ['8.8.8.8', '172.15.255.255', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect([ip, nonPublicRange(ip)]).toEqual([ip, undefined]);
  });

  test('a malformed allowance names the variable and the accepted forms', () => {
    expect(() => parseAllowance('http://cdn/')).toThrow(
      /SORA_SERIES_ALLOW_PRIVATE_URLS: "http:\/\/cdn\/" is not a host or host:port; use 1/,
    );
    expect(() =>
      activityDepsFromEnv(
        pino({ enabled: false }),
        { ...SIMULATOR_KEYS, [ALLOW_PRIVATE_URLS_ENV]: 'a b' },
        defaultProviderConfig('http://127.0.0.1:1'),
      ),
    ).toThrow(WorkerSettingsError);
  });

  test('a workflow cache size that is not a whole number of at least 2 names the variable and the forms', () => {
    for (const raw of ['1', '2.5', 'lots', '-3'])
      expect(() => maxCachedWorkflowsFromEnv({ SORA_SERIES_MAX_CACHED_WORKFLOWS: raw })).toThrow(
        new WorkerSettingsError(
          `SORA_SERIES_MAX_CACHED_WORKFLOWS: must be a whole number of at least 2, or sdk (the SDK's own size); got "${raw}"`,
        ),
      );
    expect(maxCachedWorkflowsFromEnv({})).toBe(DEFAULT_MAX_CACHED_WORKFLOWS);
    expect(maxCachedWorkflowsFromEnv({ SORA_SERIES_MAX_CACHED_WORKFLOWS: '40' })).toBe(40);
    expect(maxCachedWorkflowsFromEnv({ SORA_SERIES_MAX_CACHED_WORKFLOWS: 'sdk' })).toBe('sdk');
  });
});

describe('bad spec files are refused before anything is parsed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sora-bad-files-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fileIssues(name: string, content: string | Buffer | undefined): Promise<string[]> {
    const file = join(dir, name);
    if (content !== undefined) await writeFile(file, content);
    try {
      await loadSpec(file, { urlPolicy: PUBLIC_ONLY, profiles });
    } catch (err) {
      if (err instanceof SpecError) return err.issues;
      throw err;
    }
    throw new Error('spec was accepted');
  }

  const bomb = [
    'a: &a [x, x, x, x, x, x, x, x, x, x]',
    ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`),
  ].join('\n');

  test.each<[string, string, string | Buffer | undefined, RegExp]>([
    [
      'a file that does not exist',
      'missing.yaml',
      undefined,
      /missing\.yaml: no such file \(looked in .*\); check the path/,
    ],
    [
      'YAML with a syntax error',
      'broken.yaml',
      'name: x\n  scenes: [\n',
      /^not valid YAML: .*line \d+, column \d+; fix the syntax there/,
    ],
    [
      'YAML with a key given twice',
      'twice.yaml',
      'name: a\nname: b\n',
      /^not valid YAML: Map keys must be unique at line 2/,
    ],
    [
      'JSON with a trailing comma',
      'comma.json',
      '{"name": "x",}',
      /^not valid JSON: .*\(line 1, column \d+\); fix the syntax there \(no trailing commas/,
    ],
    [
      'a binary file (a video passed by mistake)',
      'clip.yaml',
      Buffer.from([0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0xff, 0xfe]),
      /not a YAML or JSON text file .*give the spec, not a clip/,
    ],
    ['a YAML alias bomb', 'bomb.yaml', bomb, /^not valid YAML: .*alias.*write the values out/],
    [
      'a file over the size limit',
      'huge.yaml',
      `# ${'x'.repeat(MAX_SPEC_FILE_BYTES)}\n`,
      /huge\.yaml: is 4\.0 MB; a spec is at most 4 MB/,
    ],
    [
      'a YAML scalar instead of a mapping',
      'scalar.yaml',
      'just some words\n',
      /^\(spec\): must be a mapping .*is this the spec file\?/,
    ],
  ])('refuses %s', async (_label, name, content, expected) => {
    refused++;
    const issues = await fileIssues(name, content);
    expect(issues.some((i) => expected.test(i))).toBe(true);
  });

  test('refuses a directory', async () => {
    await mkdir(join(dir, 'specs.yaml'), { recursive: true });
    expect(await fileIssues('specs.yaml', undefined)).toEqual([
      expect.stringMatching(/is a directory; give the path of the spec file/),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// A live stack: nothing starts, nothing is called

interface TestWorker {
  taskQueue: string;
  logLines: string[];
  stop(): Promise<void>;
}

let workers = 0;

/** A worker like the harness's, but with this test's own env (the SSRF allowance) and DNS. */
async function startWorker(
  sim: RunningSimulator,
  env: Record<string, string>,
  lookupHost?: HostLookup,
): Promise<TestWorker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sora-bad-input-'));
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const deps = activityDepsFromEnv(
    logger,
    { ...SIMULATOR_KEYS, SORA_SERIES_DATA_DIR: dataDir, SORA_SERIES_POLL_MS: '100', ...env },
    relayAndOfficial(sim),
  );
  if (lookupHost) deps.lookupHost = lookupHost;
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = `bad-input-${process.pid}-${++workers}-${Date.now()}`;
  const worker = await createSeriesWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps,
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  return {
    taskQueue,
    logLines,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function ledgerOf(sim: RunningSimulator): Promise<{ entries: unknown[]; calls: Record<string, number> }> {
  const response = await fetch(`${sim.url}/admin/ledger`);
  const { entries, calls } = (await response.json()) as { entries: unknown[]; calls: Record<string, number> };
  return { entries, calls };
}

describe('sora-series validate and start refuse bad specs: exit 2, the field named, nothing started, nothing called', () => {
  let sim: RunningSimulator;
  let worker: TestWorker;
  let dir: string;
  let connection: Connection;
  let client: Client;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 5,
      jobSeconds: 0.3,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    // This worker would happily run anything that got through: the allowance is on for it.
    worker = await startWorker(sim, { [ALLOW_PRIVATE_URLS_ENV]: '1' });
    dir = await mkdtemp(join(tmpdir(), 'sora-bad-cli-'));
    connection = await Connection.connect({ address: temporalAddress() });
    client = new Client({ connection });
    // The CLI itself refuses private hosts (the allowance is explicitly off for it).
    env = {
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_TASK_QUEUE: worker.taskQueue,
      SORA_SIMULATOR_URL: sim.url,
      [PROVIDERS_FILE_ENV]: await relayAndOfficialFile(sim.url, dir),
      [ALLOW_PRIVATE_URLS_ENV]: '',
    };
  });

  afterAll(async () => {
    await worker?.stop();
    await connection?.close();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const specFor = (name: string, patch: (spec: Record<string, unknown>) => Record<string, unknown>) =>
    patch({
      name,
      character: { name: 'Mira', description: 'a courier in a yellow raincoat', clip: `${sim.url}/clips/mira.mp4` },
      providers: ['relay', 'official'], // this stack's pair (its providers file)
      scenes: [{ prompt: '@character waves' }, { prompt: '@character runs' }],
    });

  const cliCases: Array<[string, (name: string) => string | undefined, RegExp]> = [
    [
      'a loopback clip URL (the simulator itself) without the allowance',
      (n) => JSON.stringify(specFor(n, (s) => s)),
      /character\.clip: points at 127\.0\.0\.1:\d+, which is loopback .*SORA_SERIES_ALLOW_PRIVATE_URLS=1/,
    ],
    [
      'a clip on the cloud metadata address',
      (n) =>
        JSON.stringify(
          specFor(n, (s) => ({
            ...s,
            character: { name: 'M', description: 'd', clip: 'http://169.254.169.254/latest/meta-data/iam' },
          })),
        ),
      /character\.clip: points at 169\.254\.169\.254, which is link-local/,
    ],
    [
      'a credential-bearing clip URL',
      (n) =>
        JSON.stringify(
          specFor(n, (s) => ({
            ...s,
            character: { name: 'M', description: 'd', clip: 'https://me:hunter2@cdn.example/m.mp4' },
          })),
        ),
      /character\.clip: must not carry credentials/,
    ],
    [
      'a scene pinned to relay at 1280x720',
      (n) =>
        JSON.stringify(
          specFor(n, (s) => ({
            ...s,
            character: { name: 'M', description: 'd', clip: 'https://cdn.example/m.mp4' },
            scenes: [{ prompt: '@character a', provider: 'relay', size: '1280x720' }],
          })),
        ),
      /scenes\[0\]\.size: 1280x720 is not a size relay renders/,
    ],
    [
      'seconds the relay cannot fit',
      (n) =>
        JSON.stringify(
          specFor(n, (s) => ({
            ...s,
            character: { name: 'M', description: 'd', clip: 'https://cdn.example/m.mp4' },
            scenes: [{ prompt: '@character a', provider: 'relay', seconds: 18 }],
          })),
        ),
      /scenes\[0\]\.seconds: 18 s is longer than relay renders/,
    ],
    [
      'an unknown field nested in a scene',
      (n) =>
        `name: ${n}\ncharacter: { name: M, description: d, clip: "https://cdn.example/m.mp4" }\nscenes:\n  - prompt: "@character a"\n    camera: drone\n`,
      /scenes\[0\]: unknown field "camera"/,
    ],
    [
      'adopt naming a provider not in providers',
      (n) =>
        JSON.stringify(
          specFor(n, (s) => ({
            ...s,
            providers: ['relay'],
            character: {
              name: 'M',
              description: 'd',
              clip: 'https://cdn.example/m.mp4',
              adopt: { official: 'char_x' },
            },
          })),
        ),
      /character\.adopt\.official: "official" is not in providers \[relay\]/,
    ],
    ['a spec that is not YAML', (n) => `name: ${n}\ncharacter: [unclosed\n`, /not valid YAML: .*line \d+/],
    [
      'a top level that is a list',
      () => '- name: x\n- name: y\n',
      /\(spec\): must be a mapping with name, character and scenes \(got a list\)/,
    ],
    ['a spec file that does not exist', () => undefined, /no such file .*check the path/],
  ];

  test.each(cliCases)('%s', async (_label, content, expected) => {
    const name = `bad-cli-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const file = join(dir, `${name}.yaml`);
    if (content(name) !== undefined) await writeFile(file, content(name)!);
    const before = await ledgerOf(sim);
    for (const command of ['validate', 'start']) {
      const run = await runCli(command === 'start' ? ['start', file, '--wait', '--json'] : ['validate', file], env);
      expect({ command, code: run.code, stdout: run.stdout }).toEqual({ command, code: 2, stdout: '' });
      expect(run.stderr).toMatch(expected);
    }
    await expect(client.workflow.getHandle(`series/${name}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(await ledgerOf(sim)).toEqual(before);
  });

  test('with the allowance the same loopback spec validates, and a started series reaches the simulator (the check above can fail)', async () => {
    const name = `ok-cli-${Date.now()}`;
    const file = join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(specFor(name, (s) => s)));
    const port = new URL(sim.url).port;
    expect(
      (await runCli(['validate', file], { ...env, [ALLOW_PRIVATE_URLS_ENV]: `127.0.0.1:${Number(port) + 1}` })).code,
    ).toBe(2);
    const validated = await runCli(['validate', file], { ...env, [ALLOW_PRIVATE_URLS_ENV]: `127.0.0.1:${port}` });
    expect(validated.stderr).toBe('');
    expect(validated.code).toBe(0);
    const before = await ledgerOf(sim);
    const run = await runCli(['start', file, '--wait', '--json'], { ...env, [ALLOW_PRIVATE_URLS_ENV]: '1' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: `series/${name}`, status: 'completed' });
    expect((await ledgerOf(sim)).entries.length).toBeGreaterThanOrEqual(before.entries.length + 2);
  });
});

describe('the worker re-checks clip URLs after DNS and on every redirect', () => {
  let sim: RunningSimulator;
  let clipHost: Server;
  let clipHostUrl: string;
  let worker: TestWorker;
  let connection: Connection;
  let client: Client;
  const MAX_CLIP = 64 * 1024;

  /** A name that passes the spec's literal check but resolves to loopback, like a rebinding DNS name. */
  const lookup: HostLookup = async (host) =>
    host === 'clips.example.test' ? [{ address: '127.0.0.1', family: 4 }] : systemLookup(host);

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 9,
      jobSeconds: 0.3,
      keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
    });
    // A clip host the worker is allowed to reach (listed by host:port); everything else private is refused.
    clipHost = createServer((req, res) => {
      const path = req.url ?? '/';
      const hop = /^\/hop\/(\d+)$/.exec(path);
      if (path === '/to-simulator') return void res.writeHead(302, { location: `${sim.url}/clips/mira.mp4` }).end();
      if (path === '/to-metadata')
        return void res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (path === '/to-file') return void res.writeHead(307, { location: 'file:///etc/passwd' }).end();
      if (hop)
        return void res
          .writeHead(302, { location: Number(hop[1]) > 1 ? `/hop/${Number(hop[1]) - 1}` : '/clip.mp4' })
          .end();
      if (path === '/clip.mp4')
        return void res
          .writeHead(200, { 'content-type': 'video/mp4', 'content-length': '2048' })
          .end(Buffer.alloc(2048, 1));
      if (path === '/big-declared.mp4')
        return void res
          .writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(MAX_CLIP + 1) })
          .end(Buffer.alloc(MAX_CLIP + 1));
      if (path === '/big-chunked.mp4') {
        res.writeHead(200, { 'content-type': 'video/mp4' }); // no length: only counting the stream can tell
        for (let i = 0; i < 40; i++) res.write(Buffer.alloc(4096, 2));
        return void res.end();
      }
      if (path === '/page')
        return void res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<html>a gallery page</html>');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => clipHost.listen(0, '127.0.0.1', resolve));
    clipHostUrl = `http://127.0.0.1:${(clipHost.address() as AddressInfo).port}`;
    worker = await startWorker(
      sim,
      { [ALLOW_PRIVATE_URLS_ENV]: new URL(clipHostUrl).host, SORA_SERIES_MAX_CLIP_BYTES: String(MAX_CLIP) },
      lookup,
    );
    connection = await Connection.connect({ address: temporalAddress() });
    client = new Client({ connection });
  });

  afterAll(async () => {
    await worker?.stop();
    await connection?.close();
    await new Promise((resolve) => clipHost?.close(resolve));
    await sim?.close();
  });

  /** Starts a series as a library caller with a laxer policy would; returns how it failed. */
  async function seriesFailure(clip: string): Promise<{ failure: ApplicationFailure; ms: number; attempts: number[] }> {
    const name = `bad-clip-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const input = toSeriesInput(
      parseSpec({ ...withClip(clip), name, providers: ['relay', 'official'] }, undefined, {
        urlPolicy: ALLOW_ALL_PRIVATE,
      }),
    );
    const started = Date.now();
    const handle = await client.workflow.start('seriesWorkflow', {
      workflowId: `series/${name}`,
      taskQueue: worker.taskQueue,
      args: [input],
    });
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - started;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    expect((activity as ActivityFailure).activityType).toBe('storeSourceClip');
    // attempts of storeSourceClip as the history records them (one started event per scheduled activity)
    const events = (await handle.fetchHistory()).events ?? [];
    const clipScheduled = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'storeSourceClip')
        .map((e) => String(e.eventId)),
    );
    const attempts = events
      .filter((e) => clipScheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
    return { failure: (activity as ActivityFailure).cause as ApplicationFailure, ms, attempts };
  }

  test.each<[string, () => string, RegExp]>([
    [
      'a public-looking name that resolves to loopback',
      () => `http://clips.example.test:${new URL(sim.url).port}/clips/mira.mp4`,
      /host clips\.example\.test resolves to 127\.0\.0\.1, loopback/,
    ],
    [
      'a redirect from an allowed host to the (private) simulator',
      () => `${clipHostUrl}/to-simulator`,
      /redirects to http:\/\/127\.0\.0\.1:\d+\/clips\/mira\.mp4: points at 127\.0\.0\.1:\d+, which is loopback/,
    ],
    [
      'a redirect to the cloud metadata address',
      () => `${clipHostUrl}/to-metadata`,
      /redirects to http:\/\/169\.254\.169\.254\/latest\/meta-data\/: points at 169\.254\.169\.254, which is link-local/,
    ],
    [
      'a redirect to a file: URL',
      () => `${clipHostUrl}/to-file`,
      /redirects to file:\/\/\/etc\/passwd: must be an http\(s\) URL/,
    ],
    ['more than 3 redirects', () => `${clipHostUrl}/hop/5`, /redirects more than 3 times .*link the file itself/],
    [
      'a clip whose Content-Length is over the limit',
      () => `${clipHostUrl}/big-declared.mp4`,
      /is 64\.0 KB \(65537 bytes\), over the 64\.0 KB limit \(SORA_SERIES_MAX_CLIP_BYTES=65536\); use a 2-4 s clip/,
    ],
    [
      'a clip streamed without a length that grows over the limit',
      () => `${clipHostUrl}/big-chunked.mp4`,
      /is larger than the 64\.0 KB limit \(SORA_SERIES_MAX_CLIP_BYTES=65536\)/,
    ],
    [
      'a web page instead of a video',
      () => `${clipHostUrl}/page`,
      /answered text\/html, not a video; link the video file itself/,
    ],
    [
      'a clip URL that answers 404',
      () => `${clipHostUrl}/nothing-here.mp4`,
      /answered HTTP 404; check that the URL points at the clip/,
    ],
  ])(
    'refuses %s: the series fails fast, non-retryable, naming character.clip; no upstream is called',
    async (_label, clip, expected) => {
      refused++;
      const before = await ledgerOf(sim);
      const { failure, ms, attempts } = await seriesFailure(clip());
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.message).toMatch(/^character\.clip: /);
      expect(failure.message).toMatch(expected);
      if (/points at \S+, which is|resolves to \S+, /.test(failure.message))
        expect(failure.message).toMatch(/set SORA_SERIES_ALLOW_PRIVATE_URLS=1/);
      expect(failure.type).toBe(failureTypeOf.invalid);
      expect(failure.nonRetryable).toBe(true);
      expect(attempts).toEqual([1]); // one activity, one attempt: no retries
      expect(ms).toBeLessThan(15_000);
      expect(await ledgerOf(sim)).toEqual(before);
      expect(before).toEqual({ entries: [], calls: Object.fromEntries(CONTRACTS.map((c) => [c, 0])) });
      expect(worker.logLines.some((l) => l.includes('"msg":"source clip refused"'))).toBe(true);
    },
  );
});

describe('guardedGet', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const hop = /^\/hop\/(\d+)$/.exec(req.url ?? '');
      if (hop)
        return void res.writeHead(302, { location: Number(hop[1]) > 1 ? `/hop/${Number(hop[1]) - 1}` : '/ok' }).end();
      res.writeHead(200, { 'content-type': 'video/mp4' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('follows up to 3 redirects within allowed hosts', async () => {
    const response = await guardedGet(`${origin}/hop/3`, { policy: parseAllowance(new URL(origin).host) });
    response.body.resume();
    expect(response.status).toBe(200);
    expect(response.redirects).toHaveLength(3);
  });

  test('connects to the address it checked, not to a second lookup (no DNS rebinding window)', async () => {
    let lookups = 0;
    const pinnedTo: HostLookup = async () => {
      lookups++;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    // `media.test` does not exist in DNS: only the vetted address can have been used
    const url = `http://media.test:${new URL(origin).port}/ok`;
    const response = await guardedGet(url, { policy: parseAllowance('media.test'), lookup: pinnedTo });
    response.body.resume();
    expect(response.status).toBe(200);
    expect(lookups).toBe(1);
  });

  test('refuses a name when any of its addresses is private', async () => {
    const mixed: HostLookup = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    await expect(guardedGet('https://cdn.example/m.mp4', { lookup: mixed })).rejects.toThrow(UrlRefusedError);
    await expect(guardedGet('https://cdn.example/m.mp4', { lookup: mixed })).rejects.toThrow(
      /resolves to 10\.0\.0\.7, a private network/,
    );
  });
});
