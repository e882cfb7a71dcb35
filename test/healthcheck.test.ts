/**
 * `sora-series healthcheck`, the container HEALTHCHECK, run as the container runs it: the built
 * CLI against real HTTP servers, and against the jest dev server with and without a real worker
 * process polling the task queue.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { freePort } from '../common/process';
import { temporalAddress } from './helpers/harness';
import { exited, runCli, spawnWorker } from './helpers/processes';

describe('sora-series healthcheck', () => {
  let server: Server;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 503);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'sora-health-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('--url: healthy on 2xx, unhealthy on an error status or nobody listening, a usage error for a non-URL', async () => {
    const ok = await runCli(['healthcheck', '--url', `${base}/healthz`], {});
    expect([ok.code, ok.stdout.trim()]).toEqual([0, `healthy: ${base}/healthz: HTTP 200`]);
    const failing = await runCli(['healthcheck', '--url', `${base}/broken`], {});
    expect([failing.code, failing.stdout.trim()]).toEqual([1, `unhealthy: ${base}/broken: HTTP 503`]);
    const closed = `http://127.0.0.1:${await freePort()}/healthz`;
    const nobody = await runCli(['healthcheck', '--url', closed], {});
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toMatch(/^unhealthy: .*ECONNREFUSED/);
    const bad = await runCli(['healthcheck', '--url', 'localhost:7071'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--url \/ SORA_SERIES_HEALTH_URL: must be an http\(s\) URL/);
  });

  test('SORA_SERIES_HEALTH_URL stands in for --url (how compose services could set it)', async () => {
    const run = await runCli(['healthcheck'], { SORA_SERIES_HEALTH_URL: `${base}/broken` });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${base}/broken: HTTP 503`);
  });

  test('worker: unhealthy until a worker of this host polls the task queue, healthy while it does', async () => {
    const env = {
      ...SIMULATOR_KEYS,
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_TASK_QUEUE: `health-${Date.now()}`,
      SORA_SIMULATOR_URL: 'http://127.0.0.1:9',
      SORA_SERIES_DATA_DIR: join(dir, 'data'),
      SORA_SERIES_METRICS_ADDRESS: 'off',
      SORA_SERIES_HEALTH_URL: '',
    };
    const before = await runCli(['healthcheck'], env);
    expect([before.code, before.stdout.trim()]).toEqual([
      1,
      `unhealthy: no worker of host ${hostname()} polls task queue ${env.SORA_SERIES_TASK_QUEUE} on ${env.TEMPORAL_ADDRESS}`,
    ]);

    const worker = spawnWorker(env);
    try {
      const deadline = Date.now() + 60_000;
      let check = await runCli(['healthcheck'], env);
      while (check.code !== 0 && Date.now() < deadline && worker.exitCode === null)
        check = await runCli(['healthcheck'], env);
      expect(check.code).toBe(0);
      expect(check.stdout.trim()).toBe(
        `healthy: worker ${worker.pid}@${hostname()} polls task queue ${env.SORA_SERIES_TASK_QUEUE} on ${env.TEMPORAL_ADDRESS}`,
      );
    } finally {
      worker.kill('SIGTERM');
      await exited(worker);
    }
  });

  test('settings the worker could not start with are reported unhealthy, naming the setting', async () => {
    const run = await runCli(['healthcheck'], {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TLS_CERT: '/certs/client.pem',
      SORA_SERIES_HEALTH_URL: '',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^unhealthy: SettingsError: [\s\S]*TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not/,
    );
  });
});
