import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import type { NewScene } from '../../workflows/messages';
import type { RoutingPolicy } from '../../workflows/types';
import { ArgumentError } from '../series/series-id';
import { ROUTING_POLICIES } from '../../workflows/routing';
import { syntaxProblem, unreadable } from '../spec/problems';

/** Arguments of the watch and steering commands, checked before anything reaches Temporal. */

/** A whole number from 1 (scene indexes and take numbers start at 1); `what` names it as typed: `<scene>`, `--limit`. */
export function positiveInt(what: string, raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new ArgumentError(`${what}: must be a whole number from 1, got "${raw}"`);
  return n;
}

export function positiveNumber(what: string, raw: string): number {
  const n = Number(raw);
  if (!raw.trim() || !Number.isFinite(n) || n <= 0)
    throw new ArgumentError(`${what}: must be a number above 0, got "${raw}"`);
  return n;
}

export function routingPolicy(raw: string): RoutingPolicy {
  if (!(ROUTING_POLICIES as readonly string[]).includes(raw)) {
    throw new ArgumentError(`<policy>: must be one of ${ROUTING_POLICIES.join(', ')}, got "${raw}"`);
  }
  return raw as RoutingPolicy;
}

/** Scenes files are small lists; anything bigger is not one. */
const MAX_SCENES_FILE_BYTES = 4 * 1024 * 1024;

/**
 * A YAML or JSON file holding a list of scenes (`[{prompt, seconds?, size?, model?, provider?}]`),
 * or a mapping with such a `scenes` list. The scenes themselves are checked by the series.
 */
export async function readScenesFile(file: string): Promise<NewScene[]> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new ArgumentError(`<scenes file> ${file}: ${unreadable(err)}`);
  });
  if (info.isDirectory())
    throw new ArgumentError(`<scenes file> ${file}: is a directory; give a .yaml or .json file with a list of scenes`);
  if (info.size > MAX_SCENES_FILE_BYTES)
    throw new ArgumentError(`<scenes file> ${file}: larger than 4 MB; send the scenes in several files`);
  const text = await readFile(file, 'utf8');
  const isJson = extname(file).toLowerCase() === '.json';
  let value: unknown;
  try {
    value = isJson ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ArgumentError(
      `<scenes file> ${file}: not valid ${isJson ? 'JSON' : 'YAML'}: ${syntaxProblem(err as Error, text, isJson)}`,
    );
  }
  const list = Array.isArray(value) ? value : (value as { scenes?: unknown } | null)?.scenes;
  if (!Array.isArray(list)) {
    throw new ArgumentError(
      `<scenes file> ${file}: must hold a list of scenes, e.g. [{"prompt": "@character waves"}] (or {scenes: [...]})`,
    );
  }
  return list as NewScene[];
}
