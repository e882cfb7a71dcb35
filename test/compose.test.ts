/**
 * docker-compose.yml and the Dockerfile against what the code expects. No Docker engine runs
 * here, so: the files are parsed and checked (services, images, ports, variables, commands,
 * health checks, search attributes), `docker-compose config` validates the file when the binary
 * is installed (.ci/run installs it), and the namespace setup script really runs against the
 * jest dev server with the temporal CLI.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import YAML from 'yaml';
import { PROVIDERS_FILE_ENV } from '../workflows/provider-rules';
import { CODEC_KEYS_ENV } from '../common/codec/keys';
import { CODEC_SERVER_ENV, DEFAULT_CODEC_PORT } from '../client/commands/codec-server';
import { HEALTH_URL_ENV } from '../client/commands/healthcheck';
import { DEFAULT_GATEWAY_PORT, WEBHOOK_SECRET_ENV } from '../client/gateway/command';
import { GATEWAY_TOKEN_ENV } from '../client/gateway/settings';
import { DEFAULT_SIMULATOR_URL } from '../client/spec/provider-profiles';
import { TEMPORAL_ENV } from '../common/temporal/settings';
import { ALLOW_PRIVATE_URLS_ENV } from '../common/url-policy';
import { parseCliOptions } from '../simulator/main';
import { DEFAULT_METRICS_ADDRESS, METRICS_ADDRESS_ENV } from '../workers/telemetry';
import { allSearchAttributes, cliTypeNames } from '../workflows/search-attributes';
import { temporalAddress } from './helpers/harness';
import { CLI, ROOT } from './helpers/processes';

const run = promisify(execFile);

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  profiles?: string[];
  container_name?: string;
}

const compose = YAML.parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const OURS = ['worker', 'gateway', 'codec-server', 'simulator'];
const LONG_RUNNING = ['postgresql', 'temporal', 'worker', 'gateway', 'codec-server', 'simulator'];
const portOf = (url: string) => Number(new URL(url).port);

/** The published container port of a service (`127.0.0.1:HOST:CONTAINER`). */
function published(service: Service): number[] {
  return (service.ports ?? []).map((p) => Number(p.split(':').pop()));
}

/** `--flag value` from a command line. */
function flag(command: string[] | undefined, name: string): string | undefined {
  const at = command?.indexOf(name) ?? -1;
  return at < 0 ? undefined : command![at + 1];
}

/** The non-test sources, to tell that a variable is read somewhere. */
function sourceText(): string {
  const files = execFileSync(
    'git',
    ['ls-files', '-co', '--exclude-standard', 'activities', 'client', 'workers', 'simulator', 'workflows'],
    { cwd: ROOT, encoding: 'utf8' },
  )
    .split('\n')
    .filter((f) => f.endsWith('.ts') && existsSync(join(ROOT, f)));
  return files.map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
}

describe('docker-compose.yml', () => {
  test('has the production-like topology: PostgreSQL, schema and namespace setup, server, UI, two workers, gateway, codec server; the simulator only in the dryrun profile', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'codec-server',
        'gateway',
        'postgresql',
        'simulator',
        'temporal',
        'temporal-namespace',
        'temporal-schema',
        'temporal-ui',
        'worker',
      ].sort(),
    );
    expect(services.temporal.image).toMatch(/^temporalio\/server:/); // not auto-setup: admin-tools sets the schema up
    expect(services['temporal-schema'].image).toMatch(/^temporalio\/admin-tools:/);
    expect(services['temporal-namespace'].image).toMatch(/^temporalio\/admin-tools:/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services.worker.deploy?.replicas).toBe(2);
    expect(services.worker.container_name).toBeUndefined(); // replicas need generated names
    expect(services.worker.ports).toBeUndefined(); // and no host port to fight over
    for (const [name, service] of Object.entries(services))
      expect([name, service.profiles]).toEqual([name, name === 'simulator' ? ['dryrun'] : undefined]);
    for (const name of OURS) expect([name, services[name].build]).toEqual([name, expect.anything()]);
  });

  test('every image is pinned to a version; server and admin-tools match', () => {
    for (const [name, service] of Object.entries(services)) {
      if (OURS.includes(name)) continue;
      expect([name, service.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:\d+(\.\d+)+[\w.-]*$/)]);
    }
    const version = (image?: string) => image?.split(':')[1];
    expect(version(services['temporal-schema'].image)).toBe(version(services.temporal.image));
    expect(version(services['temporal-namespace'].image)).toBe(version(services.temporal.image));
  });

  test("the namespace setup registers exactly the project's search attributes, and they fit PostgreSQL visibility", () => {
    const declared = services['temporal-namespace'].environment!.SEARCH_ATTRIBUTES.split(/\s+/).filter(Boolean);
    expect(declared.sort()).toEqual(allSearchAttributes.map((key) => `${key.name}=${cliTypeNames[key.type]}`).sort());
    // schema/postgresql/v12/visibility: pre-allocated columns per type (Int01..Int03, Keyword01..10, ...).
    const slots: Partial<Record<SearchAttributeType, number>> = {
      INT: 3,
      DOUBLE: 3,
      KEYWORD: 10,
      KEYWORD_LIST: 3,
      BOOL: 3,
      DATETIME: 3,
      TEXT: 3,
    };
    for (const [type, max] of Object.entries(slots)) {
      const used = allSearchAttributes.filter((k) => k.type === type).length;
      expect([type, used <= max!]).toEqual([type, true]);
    }
  });

  test('setup scripts exist, are executable and are valid sh; the schema job uses temporal-sql-tool on both databases', () => {
    for (const name of ['temporal-schema', 'temporal-namespace']) {
      const script = services[name].command![0].replace('/scripts/', 'deploy/temporal/');
      accessSync(join(ROOT, script), constants.X_OK);
      execFileSync('sh', ['-n', join(ROOT, script)]);
      expect(services[name].volumes).toContain('./deploy/temporal:/scripts:ro');
    }
    const schema = readFileSync(join(ROOT, 'deploy/temporal/setup-postgres.sh'), 'utf8');
    expect(schema).toMatch(/temporal-sql-tool --plugin postgres12/);
    expect(schema).toMatch(/setup-schema -v 0\.0/);
    expect(schema).toMatch(/update-schema -d "\$SCHEMA_ROOT\/\$schema\/versioned"/);
    const dynamicConfig = services.temporal.volumes!.find((v) => v.includes('dynamicconfig'))!;
    expect(existsSync(join(ROOT, dynamicConfig.split(':')[0]))).toBe(true);
    expect(dynamicConfig.split(':')[1]).toBe(services.temporal.environment!.DYNAMIC_CONFIG_FILE_PATH);
  });

  test('start order: schema after a healthy PostgreSQL, server after the schema, namespace after a healthy server, sora-series after the namespace', () => {
    expect(services['temporal-schema'].depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(services.temporal.depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    expect(services['temporal-namespace'].depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    for (const name of ['worker', 'gateway'])
      expect(services[name].depends_on).toEqual({
        'temporal-namespace': { condition: 'service_completed_successfully' },
      });
    for (const name of LONG_RUNNING)
      expect([name, services[name].healthcheck?.test.length]).toEqual([name, expect.any(Number)]);
  });

  test('ports and URLs agree with the code defaults: gateway 7071, codec server 8081, simulator 7070, metrics 9464, frontend 7233', () => {
    expect(published(services.gateway)).toEqual([DEFAULT_GATEWAY_PORT]);
    expect(Number(flag(services.gateway.command, '--port'))).toBe(DEFAULT_GATEWAY_PORT);
    expect(flag(services.gateway.command, '--host')).toBe('0.0.0.0'); // reachable from outside its container
    expect(published(services['codec-server'])).toEqual([DEFAULT_CODEC_PORT]);
    expect(Number(flag(services['codec-server'].command, '--port'))).toBe(DEFAULT_CODEC_PORT);
    expect(services['codec-server'].environment![CODEC_SERVER_ENV.host]).toBe('0.0.0.0');
    expect(published(services.temporal)).toEqual([7233]);
    expect(published(services['temporal-ui'])).toEqual([8080]);
    for (const service of Object.values(services))
      for (const p of service.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
    // The browser talks to both: the UI's codec endpoint is the codec server, which allows the UI's origin.
    const defaultOf = (value: string) => /:-([^}]+)\}/.exec(value)![1];
    expect(portOf(defaultOf(services['temporal-ui'].environment!.TEMPORAL_CODEC_ENDPOINT))).toBe(DEFAULT_CODEC_PORT);
    expect(portOf(defaultOf(services['codec-server'].environment![CODEC_SERVER_ENV.corsOrigins]))).toBe(
      published(services['temporal-ui'])[0],
    );
    expect(Number(flag(services.simulator.command, '--port'))).toBe(portOf(DEFAULT_SIMULATOR_URL));
    expect(services.worker.environment![METRICS_ADDRESS_ENV]).toBe(`0.0.0.0:${DEFAULT_METRICS_ADDRESS.split(':')[1]}`);
    expect(services.worker.expose).toEqual([DEFAULT_METRICS_ADDRESS.split(':')[1]]);
    for (const name of ['worker', 'gateway'])
      expect(services[name].environment![TEMPORAL_ENV.address]).toBe(`temporal:${published(services.temporal)[0]}`);
  });

  test('health checks use the CLI: the worker as the server sees it, the others on their own port', () => {
    const check = (name: string) => services[name].healthcheck!.test;
    expect(check('worker')).toEqual(['CMD', 'node', 'dist/client/cli.js', 'healthcheck']);
    expect(portOf(flag(check('gateway'), '--url')!)).toBe(DEFAULT_GATEWAY_PORT);
    expect(portOf(flag(check('codec-server'), '--url')!)).toBe(DEFAULT_CODEC_PORT);
    expect(flag(check('simulator'), '--url')).toBe(
      `http://simulator:${flag(services.simulator.command, '--port')}/admin/ledger`,
    );
    expect(flag(services.simulator.command, '--host')).toBe('simulator'); // the URLs it hands out must resolve for the workers
  });

  test('the simulator flags are ones it accepts; the simulator keys follow the provider keys', () => {
    expect(services.simulator.entrypoint).toEqual(['node', 'dist/simulator/main.js']);
    const options = parseCliOptions(services.simulator.command!, { SIM_OFFICIAL_KEY: 'x', SIM_RELAY_KEY: 'y' });
    expect(options).toMatchObject({ host: 'simulator', port: 7070 });
    expect(services.simulator.environment).toEqual({
      SIM_OFFICIAL_KEY: '${SORA_OFFICIAL_KEY:-}',
      SIM_RELAY_KEY: '${SORA_RELAY_KEY:-}',
    });
  });

  test("every variable given to a sora-series service is one the code reads; connection and codec settings use the settings modules' names", () => {
    const source = sourceText();
    const known = new Set([
      ...Object.values(TEMPORAL_ENV),
      CODEC_KEYS_ENV,
      ...Object.values(CODEC_SERVER_ENV),
      METRICS_ADDRESS_ENV,
      PROVIDERS_FILE_ENV,
      ALLOW_PRIVATE_URLS_ENV,
      WEBHOOK_SECRET_ENV,
      GATEWAY_TOKEN_ENV,
      HEALTH_URL_ENV,
    ]);
    for (const name of OURS) {
      for (const variable of Object.keys(services[name].environment ?? {})) {
        expect([name, variable, known.has(variable) || new RegExp(`\\b${variable}\\b`).test(source)]).toEqual([
          name,
          variable,
          true,
        ]);
      }
    }
    for (const name of ['worker', 'gateway']) {
      const env = services[name].environment!;
      for (const variable of [
        TEMPORAL_ENV.address,
        TEMPORAL_ENV.namespace,
        TEMPORAL_ENV.taskQueue,
        CODEC_KEYS_ENV,
        PROVIDERS_FILE_ENV,
      ])
        expect([name, variable, variable in env]).toEqual([name, variable, true]);
    }
    expect(services['codec-server'].environment![CODEC_KEYS_ENV]).toBe(services.worker.environment![CODEC_KEYS_ENV]);
    expect(services.gateway.environment![GATEWAY_TOKEN_ENV]).toBe(`\${${GATEWAY_TOKEN_ENV}:-}`);
  });

  test('no secret is written in the file: passwords, keys and tokens come from the environment', () => {
    const SECRET = /(KEY|KEYS|PASSWORD|PWD|TOKEN|SECRET)$/;
    for (const [name, service] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (SECRET.test(variable) && variable !== 'TEMPORAL_CODEC_PASS_ACCESS_TOKEN')
          expect([name, variable, value]).toEqual([
            name,
            variable,
            expect.stringMatching(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/),
          ]);
      }
    }
    // Required ones stop compose with a message naming them; optional ones default to empty.
    expect(services.postgresql.environment!.POSTGRES_PASSWORD).toMatch(
      /^\$\{POSTGRES_PASSWORD:\?set POSTGRES_PASSWORD/,
    );
    expect(services.worker.environment![CODEC_KEYS_ENV]).toMatch(
      /^\$\{SORA_SERIES_CODEC_KEYS:\?set SORA_SERIES_CODEC_KEYS/,
    );
  });

  test('every variable the file reads is documented in deploy/compose.env.example, which holds no secret', () => {
    const used = new Set(
      [...readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]),
    );
    const example = readFileSync(join(ROOT, 'deploy/compose.env.example'), 'utf8');
    const documented = new Map([...example.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
    for (const [variable, value] of documented)
      if (/(KEY|KEYS|PASSWORD|TOKEN|SECRET)$/.test(variable)) expect([variable, value]).toEqual([variable, '']);
  });

  test('the commands are sora-series commands, with the flags their usage lists', async () => {
    for (const name of ['worker', 'gateway', 'codec-server']) {
      const [command, ...args] = services[name].command!;
      const { stdout: help } = await run(process.execPath, [CLI, command, '--help']);
      const line = help.split('\n')[0];
      expect([name, line]).toEqual([name, expect.stringMatching(new RegExp(`^usage: sora-series ${command}( |$)`))]);
      for (const arg of args.filter((a) => a.startsWith('--')))
        expect([name, arg, line.includes(`[${arg} `) || line.includes(`[${arg}]`)]).toEqual([name, arg, true]);
    }
  });

  const composeBinary = (() => {
    for (const candidate of [['docker-compose'], ['docker', 'compose']]) {
      try {
        execFileSync(candidate[0], [...candidate.slice(1), 'version'], { stdio: 'ignore' });
        return candidate;
      } catch {
        // try the next one
      }
    }
    return undefined;
  })();
  const withCompose = composeBinary ? test : test.skip;
  const composeRun = (args: string[], env: NodeJS.ProcessEnv) =>
    run(composeBinary![0], [...composeBinary!.slice(1), '-f', join(ROOT, 'docker-compose.yml'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });

  withCompose(
    'docker-compose config accepts the file (also with the dryrun profile) and refuses it without the required secrets',
    async () => {
      const env = {
        POSTGRES_PASSWORD: 'compose-test-password',
        SORA_SERIES_CODEC_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
      };
      const { stdout } = await composeRun(['config'], env);
      const resolved = YAML.parse(stdout) as { services: Record<string, Service> };
      expect(resolved.services.worker.environment![CODEC_KEYS_ENV]).toBe(env.SORA_SERIES_CODEC_KEYS);
      expect(resolved.services.postgresql.environment!.POSTGRES_PASSWORD).toBe(env.POSTGRES_PASSWORD);
      const profiles = await composeRun(['--profile', 'dryrun', 'config', '--services'], env);
      expect(profiles.stdout.split('\n')).toContain('simulator');
      await expect(
        composeRun(['config'], { SORA_SERIES_CODEC_KEYS: env.SORA_SERIES_CODEC_KEYS }),
      ).rejects.toMatchObject({ stderr: expect.stringContaining('set POSTGRES_PASSWORD') });
      await expect(composeRun(['config'], { POSTGRES_PASSWORD: 'x' })).rejects.toMatchObject({
        stderr: expect.stringContaining('set SORA_SERIES_CODEC_KEYS'),
      });
    },
  );

  test('the namespace script creates a namespace and registers every attribute with its type, and a second run changes nothing', async () => {
    const namespace = `compose-test-${Date.now()}`;
    const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
    const env = {
      ...process.env,
      PATH: `${dirname(cli)}:${process.env.PATH}`,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: namespace,
      SEARCH_ATTRIBUTES: services['temporal-namespace'].environment!.SEARCH_ATTRIBUTES,
    };
    const script = join(ROOT, 'deploy/temporal/setup-namespace.sh');
    const first = await run('sh', [script], { env });
    expect(first.stdout).toContain(`namespace ${namespace} ready`);
    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
      const typeName = (t: number) => IndexedValueType[t].replace('INDEXED_VALUE_TYPE_', '');
      for (const key of allSearchAttributes)
        expect([key.name, typeName(customAttributes![key.name])]).toEqual([key.name, key.type]);
    } finally {
      await connection.close();
    }
    const second = await run('sh', [script], { env });
    expect(second.stdout).toContain(`namespace ${namespace} exists`);
    expect(second.stdout.match(/search attribute \w+ exists/g)).toHaveLength(allSearchAttributes.length);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
  const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  const finalStage = dockerfile.slice(stages[stages.length - 1].index);

  test('Debian-based Node 20, pinned, never Alpine; multi-stage with production dependencies only in the final image', () => {
    expect(nodeImage).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    const instructions = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#'));
    expect(instructions.join('\n')).not.toMatch(/alpine/i);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const [, image] of stages) expect(image).toBe('${NODE_IMAGE}');
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(finalStage).not.toMatch(/npm ci(?! --omit=dev)/);
    expect(finalStage).toMatch(/COPY --from=\S+ \/app\/dist \.\/dist/);
  });

  test('runs as a non-root user, has a health check, and the CLI is the entrypoint (worker by default)', () => {
    const user = [...finalStage.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(finalStage).toMatch(/^HEALTHCHECK .*\n?\s*CMD \["node", "dist\/client\/cli\.js", "healthcheck"\]/m);
    expect(finalStage).toMatch(/^ENTRYPOINT \["node", "dist\/client\/cli\.js"\]$/m);
    expect(finalStage).toMatch(/^CMD \["worker"\]$/m);
    expect(services.worker.healthcheck!.test.slice(1)).toEqual(['node', 'dist/client/cli.js', 'healthcheck']);
  });

  test('copies every source folder the build compiles and the review page, and keeps secrets and local state out of the context', () => {
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const copied = [...dockerfile.matchAll(/^COPY (\w+) \.\/\1$/gm)].map((m) => m[1]);
    expect(copied.filter((dir) => dir !== 'examples').sort()).toEqual([...build.include].sort());
    // The review page's files are served as they are: the final image holds them beside dist/.
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^COPY client\/gateway\/review-page \.\/client\/gateway\/review-page$/m);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['.env', 'node_modules', 'dist', '.data', '.git', '.tools']) expect(ignored).toContain(entry);
  });
});
