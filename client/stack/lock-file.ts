import { open, readFile, stat, unlink } from 'node:fs/promises';

const STALE_LOCK_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock file (O_EXCL create). A lock whose owner pid is gone, or that is older than
 * any install could take, is stale and broken. Returns a release function, or undefined when
 * `done()` became true while waiting (another process finished the job).
 */
export async function acquireLock(
  lockPath: string,
  done: () => Promise<boolean>,
  waitMs: number,
): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await done()) return undefined;
    try {
      const owner = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
      const age = Date.now() - (await stat(lockPath)).mtimeMs;
      if ((Number.isInteger(owner) && owner > 0 && !processAlive(owner)) || age > STALE_LOCK_MS) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
    } catch {
      // The lock vanished (or is half-written) between our checks: just try again.
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockPath} (another install is running?)`);
    await sleep(250);
  }
}
