import { breakerEnvShape, commonEnvShape, parseEnv, providerEnvShape, vectorStoreEnvShape, workerEnvShape } from '@kbflow/config';
import { z } from 'zod';

export const aggregatorEnvSchema = z.object({
  ...commonEnvShape,
  ...workerEnvShape(9103, 16),
  ...vectorStoreEnvShape,
  ...providerEnvShape,
  ...breakerEnvShape,
});

export type AggregatorEnv = z.infer<typeof aggregatorEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): AggregatorEnv {
  return parseEnv(aggregatorEnvSchema, source);
}
