/** Jest global teardown: stop the dev server the global setup started, and drop its data and the bundle. */
import { rm } from 'node:fs/promises';
import { TEST_WORKFLOW_BUNDLE_ENV } from '../helpers/workflow-code';
import { GLOBAL_DEV_SERVER, type GlobalTestStack } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as Record<symbol, unknown>;
  const stack = globals[GLOBAL_DEV_SERVER] as GlobalTestStack | undefined;
  if (!stack) return;
  delete globals[GLOBAL_DEV_SERVER];
  if (stack.server) {
    await stack.server.stop();
    delete process.env.TEMPORAL_TEST_ADDRESS;
  }
  delete process.env[TEST_WORKFLOW_BUNDLE_ENV];
  await rm(stack.dataDir, { recursive: true, force: true });
}
