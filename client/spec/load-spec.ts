import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { syntaxProblem, unreadable } from './problems';
import { parseSpec, SpecError, type SpecOptions } from './parse-spec';
import type { SeriesSpec } from './spec-schema';

/** Spec files larger than this are refused unread. */
export const MAX_SPEC_FILE_BYTES = 4 * 1024 * 1024;

/** Reads a YAML or JSON spec file; unreadable files and syntax errors are spec errors too. */
export async function loadSpec(file: string, options: SpecOptions = {}): Promise<SeriesSpec> {
  const size = await stat(file).then(
    (s) => (s.isDirectory() ? 'directory' : s.size),
    (err: NodeJS.ErrnoException) => {
      throw new SpecError([`${file}: ${unreadable(err)}`]);
    },
  );
  if (size === 'directory')
    throw new SpecError([`${file}: is a directory; give the path of the spec file (.yaml or .json)`]);
  if (size > MAX_SPEC_FILE_BYTES) {
    throw new SpecError([
      `${file}: is ${(size / 1024 / 1024).toFixed(1)} MB; a spec is at most ${MAX_SPEC_FILE_BYTES / 1024 / 1024} MB: split the series into several specs`,
    ]);
  }
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new SpecError([`${file}: ${unreadable(err)}`]);
  });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.includes('\u0000')) throw new TypeError('NUL');
  } catch {
    throw new SpecError([
      `${file}: not a YAML or JSON text file (it holds binary data, or text that is not UTF-8); give the spec, not a clip or video`,
    ]);
  }
  const isJson = extname(file).toLowerCase() === '.json';
  let value: unknown;
  try {
    value = isJson ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new SpecError([`not valid ${isJson ? 'JSON' : 'YAML'}: ${syntaxProblem(err as Error, text, isJson)}`], file);
  }
  const profiles = options.profiles ?? (await import('./provider-profiles')).clientProviderProfiles().profiles;
  return parseSpec(value, file, { ...options, profiles });
}
