import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The folder containing package.json, found by walking up from this file, so the answer is the
 * same from the TypeScript sources (jest, swc) and from their compiled copies under `dist/`.
 */
export function findProjectRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}: cannot locate the project root`);
    dir = parent;
  }
}
