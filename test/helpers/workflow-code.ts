/**
 * The tests' workflow bundle, made from the TypeScript sources: once per jest run by the global
 * setup, into a file every in-process worker reads (`TEST_WORKFLOW_BUNDLE_ENV`), instead of
 * webpack once per test file.
 */
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const TEST_WORKFLOW_BUNDLE_ENV = 'SORA_SERIES_TEST_WORKFLOW_BUNDLE';

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta),
  log: () => undefined,
};

export function bundleSources(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger });
}

/** Bundles the sources into `path`; returns it. */
export async function writeSourcesBundle(path: string): Promise<string> {
  await writeFile(path, (await bundleSources()).code);
  return path;
}
