import path from 'node:path';
import { defineConfig } from 'prisma/config';

// The Prisma 7 CLI checks for its native schema engine before any command and
// downloads it when missing, which fails offline (binaries.prisma.sh is out of
// reach on kbflow's build machines). kbflow runs only `prisma generate`, which
// never starts that engine, and applies migrations itself
// (packages/db/src/migrate.ts), so the CLI is pointed at a stand-in that says
// so if anything does start it. An engine installed on purpose wins.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(import.meta.dirname, 'prisma', 'no-schema-engine');

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  // Read by the CLI's database commands only; the services connect through @prisma/adapter-pg (packages/db/src/client.ts).
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/kbflow' },
});
