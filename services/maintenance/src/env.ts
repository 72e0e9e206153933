import { commonEnvShape, parseEnv, vectorStoreEnvShape, workerEnvShape } from '@kbflow/config';
import { z } from 'zod';

export const maintenanceEnvSchema = z.object({
  ...commonEnvShape,
  ...workerEnvShape(9104, 2),
  ...vectorStoreEnvShape,
  KBFLOW_HEALTH_CHECK_EVERY_MS: z.coerce.number().int().min(1000).default(15 * 60 * 1000),
  KBFLOW_COMPACT_EVERY_MS: z.coerce.number().int().min(1000).default(10 * 60 * 1000),
});

export type MaintenanceEnv = z.infer<typeof maintenanceEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): MaintenanceEnv {
  return parseEnv(maintenanceEnvSchema, source);
}
