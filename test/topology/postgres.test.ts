/**
 * The pieces of the real-server topology that are cheap enough for every run: the private
 * PostgreSQL cluster (when Debian's postgresql is installed) and the server build's refusals.
 * The full topology (built server, workers, a series) is postgres-server.test.ts, opt-in.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findPostgresBin,
  PostgresNotAvailable,
  startPostgres,
  type RunningPostgres,
} from '../../tools/real-server/postgres';
import {
  ensureTemporalServer,
  findTemporalServer,
  TemporalServerBuildError,
} from '../../tools/real-server/temporal-server-build';

const pgInstalled = (() => {
  try {
    return readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')));
  } catch {
    return false;
  }
})();
if (!pgInstalled)
  console.log(
    'test/topology/postgres.test.ts: the cluster test is skipped: PostgreSQL is not installed (apt-get install -y postgresql)',
  );

describe('private PostgreSQL cluster', () => {
  (pgInstalled ? test : test.skip)(
    'starts on loopback with password auth, keeps the password out of every command line, and is gone after stop',
    async () => {
      const pg = await startPostgres();
      try {
        expect(pg.host).toBe('127.0.0.1');
        expect(await pg.query('postgres', 'SELECT current_user')).toBe('temporal');
        // As root, the server runs as the postgres user (PostgreSQL refuses root).
        const owner = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pg.pid}/status`, 'utf8'))![1]);
        if (process.getuid?.() === 0) expect(owner).not.toBe(0);
        // Password auth is on: a wrong password is refused.
        await expect(psqlWithPassword(pg, 'wrong')).rejects.toThrow(/password authentication failed/);
        // The password is in no process's argv (the cluster's, or ours).
        for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
          let argv = '';
          try {
            argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          } catch {
            continue; // gone meanwhile
          }
          expect(argv.includes(pg.password)).toBe(false);
        }
      } finally {
        await pg.stop();
      }
      expect(existsSync(pg.dir)).toBe(false);
      await expect(pg.query('postgres', 'SELECT 1')).rejects.toThrow();
    },
  );

  test('a PostgreSQL bin folder that is not one is named in the error', async () => {
    await expect(findPostgresBin({ SORA_SERIES_PG_BIN: '/nonexistent/pg/bin' })).rejects.toThrow(PostgresNotAvailable);
    await expect(findPostgresBin({ SORA_SERIES_PG_BIN: '/nonexistent/pg/bin' })).rejects.toThrow(
      /SORA_SERIES_PG_BIN=\/nonexistent\/pg\/bin does not hold initdb/,
    );
  });
});

describe('temporal-server build', () => {
  test('without Go on PATH it says so, and leaves no half-built folder behind', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sora-build-'));
    try {
      expect(await findTemporalServer({ projectRoot: root })).toBeUndefined();
      await expect(ensureTemporalServer({ projectRoot: root, env: { PATH: '/nonexistent' } })).rejects.toThrow(
        TemporalServerBuildError,
      );
      await expect(ensureTemporalServer({ projectRoot: root, env: { PATH: '/nonexistent' } })).rejects.toThrow(
        /Go is not on PATH/,
      );
      expect(existsSync(join(root, '.tools', 'temporal-server'))).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/** psql with a chosen password against the running cluster. */
function psqlWithPassword(pg: RunningPostgres, password: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      join(pg.binDir, 'psql'),
      ['-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'postgres', '-At', '-c', 'SELECT 1'],
      { env: { PATH: process.env.PATH, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' } },
      (err, stdout, stderr) => (err ? fail(new Error(`${stderr}${err.message}`)) : done(stdout)),
    );
  });
}
