import { lastLines, runCommand } from '../../common/process';
import { TemporalOnPostgresError } from './errors';
import type { RunningPostgres } from './postgres';
import type { TemporalServerBinaries } from './temporal-server-build';

const DATABASES = [
  { name: 'temporal', schema: 'postgresql/v12/temporal' },
  { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

/** Both databases created and brought to the schema version this server embeds (idempotent). */
export async function setupSchemas(binaries: TemporalServerBinaries, pg: RunningPostgres): Promise<void> {
  for (const db of DATABASES) {
    // temporal-sql-tool reads connection and password from SQL_* variables: nothing secret in argv.
    const env = {
      PATH: process.env.PATH,
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: pg.host,
      SQL_PORT: String(pg.port),
      SQL_USER: pg.user,
      SQL_PASSWORD: pg.password,
      SQL_DATABASE: db.name,
    };
    const steps: Array<{ args: string[]; tolerate?: RegExp }> = [
      { args: ['create-database', '--defaultdb', 'postgres'], tolerate: /already exists/ },
      { args: ['setup-schema', '-v', '0.0'] },
      { args: ['update-schema', '--schema-name', db.schema] },
    ];
    for (const step of steps) {
      const result = await runCommand(binaries.sqlTool, step.args, { env });
      if (result.code !== 0 && !step.tolerate?.test(result.output)) {
        throw new TemporalOnPostgresError(
          `temporal-sql-tool ${step.args.join(' ')} on ${db.name} failed (exit ${result.code}):\n${lastLines(result.output)}`,
        );
      }
    }
  }
}
