import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, resolve } from 'node:path';

/** Finding executables the way a shell would, on every platform. */

const isWindows = process.platform === 'win32';

/** The file name of a command on this platform. */
export const exe = (command: string) => (isWindows ? `${command}.exe` : command);

export async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, isWindows ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean);
  const names = isWindows ? [`${command}.exe`, `${command}.cmd`, command] : [command];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = resolve(dir, name);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}
