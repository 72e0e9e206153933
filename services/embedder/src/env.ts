import { breakerEnvShape, commonEnvShape, parseEnv, providerEnvShape, vectorStoreEnvShape, workerEnvShape } from '@kbflow/config';
import { z } from 'zod';

export const embedderEnvSchema = z.object({
  ...commonEnvShape,
  ...workerEnvShape(9102, 4),
  ...vectorStoreEnvShape,
  ...providerEnvShape,
  ...breakerEnvShape,
});

export type EmbedderEnv = z.infer<typeof embedderEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): EmbedderEnv {
  return parseEnv(embedderEnvSchema, source);
}
