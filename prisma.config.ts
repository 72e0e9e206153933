import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// Prisma 6.19's JS engine works offline (no native engine download). Its
// `migrate deploy` cannot talk to PostgreSQL yet (prisma/orm#27403), so
// kbflow applies the generated SQL itself: see packages/db/src/migrate.ts.
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/kbflow' });
  },
});
