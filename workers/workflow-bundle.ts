/**
 * The workflow bundles `npm run build` writes beside the compiled worker (dist/workers/workflow-bundles),
 * so a worker started from dist skips webpack. The manifest lists every file a
 * bundle was made from with its hash; a worker uses a bundle only while all of them still match,
 * and bundles at start otherwise (sources run by jest/swc have no manifest beside them).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import type { WorkflowBundlePath } from '@temporalio/worker';
import { ENCRYPTING_FAILURE_CONVERTER_PATH } from '../common/codec/data-converter';
import { findProjectRoot } from '../common/project-root';

/** Beside the compiled worker; from the sources (jest, swc) it does not exist. */
export const BUNDLE_DIR = join(__dirname, 'workflow-bundles');
export const MANIFEST_FILE = 'manifest.json';

/** The failure converter is bundled: one bundle per converter the worker may be given. */
export const BUNDLE_VARIANTS = {
  plain: { file: 'plain.js', failureConverterPath: undefined },
  'encrypted-failures': {
    file: 'encrypted-failures.js',
    failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH,
  },
} as const;
export type BundleVariant = keyof typeof BUNDLE_VARIANTS;

export interface BundleManifest {
  bundles: Partial<Record<BundleVariant, { file: string; sha256: string; inputs: string[]; inputsSha256: string }>>;
}

/** The variant a data converter needs; undefined for converters no prebuilt bundle was made with. */
export function variantFor(dataConverter?: DataConverter): BundleVariant | undefined {
  if (dataConverter?.payloadConverterPath) return undefined;
  const path = dataConverter?.failureConverterPath;
  if (!path) return 'plain';
  return path === ENCRYPTING_FAILURE_CONVERTER_PATH ? 'encrypted-failures' : undefined;
}

/**
 * How an input is named in the manifest: project files relative to the package root, packages'
 * files by their path inside node_modules (`npm:...`), since an install moves node_modules.
 */
export function inputKey(root: string, file: string): string {
  const marker = `${sep}node_modules${sep}`;
  const modules = file.lastIndexOf(marker);
  if (modules >= 0)
    return `npm:${file
      .slice(modules + marker.length)
      .split(sep)
      .join('/')}`;
  const rel = relative(root, file);
  if (rel.startsWith('..')) throw new Error(`workflow bundle input outside the package: ${file}`);
  return rel.split(sep).join('/');
}

/** Where an input is now, looked up as Node looks up packages: node_modules folders from `dir` up. */
function locate(root: string, dir: string, key: string): string | undefined {
  if (!key.startsWith('npm:')) return join(root, key);
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', key.slice(4));
    if (existsSync(candidate)) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** One hash over the inputs' contents and the SDK that bundles and runs them; undefined if one is gone. */
export function inputsDigest(root: string, dir: string, keys: readonly string[]): string | undefined {
  const hash = createHash('sha256');
  hash.update(`@temporalio/worker@${sdkVersion()}\n`);
  for (const key of keys) {
    const path = locate(root, dir, key);
    if (!path || !existsSync(path)) return undefined;
    hash.update(`${key}\0${sha256(readFileSync(path))}\n`);
  }
  return hash.digest('hex');
}

function sdkVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as { version: string })
    .version;
}

/** The prebuilt bundle for this data converter, if one was built in `dir` from the files there now. */
export function prebuiltWorkflowBundle(
  dataConverter?: DataConverter,
  dir = BUNDLE_DIR,
): WorkflowBundlePath | undefined {
  const variant = variantFor(dataConverter);
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!variant || !existsSync(manifestPath)) return undefined;
  const entry = (JSON.parse(readFileSync(manifestPath, 'utf8')) as BundleManifest).bundles[variant];
  if (!entry) return undefined;
  const codePath = join(dir, entry.file);
  if (!existsSync(codePath) || sha256(readFileSync(codePath)) !== entry.sha256) return undefined;
  if (inputsDigest(findProjectRoot(dir), dir, entry.inputs) !== entry.inputsSha256) return undefined;
  return { codePath };
}
