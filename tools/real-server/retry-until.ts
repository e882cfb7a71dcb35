import { TemporalOnPostgresError } from './errors';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Resolves when `attempt` does, retrying until the deadline (a starting server refuses for a while). */
export async function retryUntil<T>(
  what: string,
  attempt: () => Promise<T>,
  deadline: number,
  alive: () => string | undefined,
): Promise<T> {
  let last: unknown;
  for (;;) {
    const gone = alive();
    if (gone) throw new TemporalOnPostgresError(`temporal-server ${gone} while waiting for ${what}`);
    try {
      return await attempt();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new TemporalOnPostgresError(
        `timed out waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`,
      );
    await sleep(300);
  }
}
