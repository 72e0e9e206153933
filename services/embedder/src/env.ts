import { breakerEnvShape, commonEnvShape, parseEnv, providerEnvShape, vectorStoreEnvShape, workerEnvShape } from '@kbflow/config';
import { z } from 'zod';

export const embedderEnvSchema = z.object({
  ...commonEnvShape,
  // 16 jobs at once: `embed-chunks` jobs spend most of their time waiting for
  // the batch they share (ChunkBatcher), so more of them make larger batches.
  ...workerEnvShape(9102, 16),
  ...vectorStoreEnvShape,
  ...providerEnvShape,
  ...breakerEnvShape,
});

export type EmbedderEnv = z.infer<typeof embedderEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): EmbedderEnv {
  return parseEnv(embedderEnvSchema, source);
}
