import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataConverterFromEnv } from '../common/codec/data-converter';
import { CODEC_KEYS_ENV } from '../common/codec/keys';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { MANIFEST_FILE, prebuiltWorkflowBundle } from '../workers/workflow-bundle';
import { waitFor } from './chaos/chaos-kit';
import { temporalAddress } from './helpers/harness';
import { exited, ROOT, spawnWorker } from './helpers/processes';

/**
 * The workflow bundles `npm run build` makes (workers/workflow-bundle.ts): one per data converter,
 * used by a worker from dist only while every file they were made from is unchanged.
 */
const BUILT = join(ROOT, 'dist', 'workers', 'workflow-bundles');
const ENCRYPTED = { [CODEC_KEYS_ENV]: `k:${randomBytes(32).toString('base64')}` };

describe('prebuilt workflow bundles', () => {
  test('the build made one for each data converter a worker is given, and none for others', () => {
    expect(prebuiltWorkflowBundle(undefined, BUILT)).toEqual({ codePath: join(BUILT, 'plain.js') });
    expect(prebuiltWorkflowBundle(dataConverterFromEnv(ENCRYPTED), BUILT)).toEqual({
      codePath: join(BUILT, 'encrypted-failures.js'),
    });
    expect(prebuiltWorkflowBundle({ failureConverterPath: require.resolve('../common/codec/keys') }, BUILT)).toBe(
      undefined,
    );
    expect(prebuiltWorkflowBundle({ payloadConverterPath: require.resolve('../common/codec/keys') }, BUILT)).toBe(
      undefined,
    );
  });

  test('a moved copy is used as it is; a changed input, a changed bundle or no manifest is not', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sora-bundles-'));
    try {
      await cp(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
      await cp(join(ROOT, 'package.json'), join(root, 'package.json'));
      await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
      const dir = join(root, 'dist', 'workers', 'workflow-bundles');
      expect(prebuiltWorkflowBundle(undefined, dir)).toEqual({ codePath: join(dir, 'plain.js') });

      await appendFile(join(root, 'dist', 'workflows', 'scene.js'), '\n// edited after the build\n');
      expect(prebuiltWorkflowBundle(undefined, dir)).toBe(undefined);
      // The failure converter is in the encrypted bundle only.
      await appendFile(join(root, 'dist', 'common', 'codec', 'failure-converter.js'), '\n');
      await cp(join(ROOT, 'dist', 'workflows', 'scene.js'), join(root, 'dist', 'workflows', 'scene.js'));
      expect(prebuiltWorkflowBundle(undefined, dir)).toEqual({ codePath: join(dir, 'plain.js') });
      expect(prebuiltWorkflowBundle(dataConverterFromEnv(ENCRYPTED), dir)).toBe(undefined);

      await appendFile(join(dir, 'plain.js'), '\n');
      expect(prebuiltWorkflowBundle(undefined, dir)).toBe(undefined);
      await unlink(join(dir, MANIFEST_FILE));
      expect(prebuiltWorkflowBundle(undefined, dir)).toBe(undefined);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test.each([
    ['plain', {}],
    ['encrypted', ENCRYPTED],
  ])('a worker started from dist says it runs the prebuilt bundle (%s)', async (_, extra) => {
    const worker = spawnWorker({
      ...SIMULATOR_KEYS,
      TEMPORAL_ADDRESS: temporalAddress(),
      SORA_SERIES_TASK_QUEUE: `bundle-${process.pid}-${Date.now()}`,
      SORA_SIMULATOR_URL: 'http://127.0.0.1:9', // never called: no series runs here
      SORA_SERIES_METRICS_ADDRESS: 'off',
      ...extra,
    });
    try {
      const started = await waitFor(
        'the worker to start',
        () => {
          if (worker.exitCode !== null) throw new Error(`worker exited ${worker.exitCode}:\n${worker.output()}`);
          return worker
            .output()
            .split('\n')
            .find((l) => l.includes('"msg":"worker started"'));
        },
        60_000,
        100,
      );
      expect(JSON.parse(started)).toMatchObject({ workflows: 'prebuilt bundle' });
    } finally {
      worker.kill('SIGTERM');
      await exited(worker);
    }
  });
});
