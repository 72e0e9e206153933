import { z } from 'zod';

/**
 * The migration's environment, read by `migrate.cli.ts` (and listed, like
 * every service schema, in `.env.example`, compose and the Kubernetes
 * ConfigMap/Secret). Containers set KBFLOW_CREATE_DATABASE=false: there the
 * database exists and the role may not be allowed to create one.
 */
export const migrateEnvSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/kbflow'),
  KBFLOW_CREATE_DATABASE: z.enum(['true', 'false']).default('true'),
});
