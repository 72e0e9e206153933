// Entry point of the one migration path: `./kbflow migrate`, the compose
// `migrate` one-shot and the Kubernetes migration Job all run this file.
import { parseEnv } from '@kbflow/config';
import { migrateEnvSchema } from './migrate-env.ts';
import { applyMigrations, ensureDatabase } from './migrate.ts';

const env = parseEnv(migrateEnvSchema);

try {
  if (env.KBFLOW_CREATE_DATABASE === 'true' && (await ensureDatabase(env.DATABASE_URL))) {
    process.stdout.write('created database\n');
  }
  const result = await applyMigrations(env.DATABASE_URL);
  process.stdout.write(
    `migrations: ${result.applied.length} applied${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.alreadyApplied.length} already applied\n`,
  );
} catch (error) {
  process.stderr.write(`migration failed: ${(error as Error).message}\n`);
  process.exit(1);
}
