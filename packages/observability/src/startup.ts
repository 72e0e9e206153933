import { EnvError } from '@kbflow/config';
import { createLogger } from './logger.ts';

/**
 * Ends a process whose start failed: lists every bad environment variable
 * (never their values) or logs the error, then exits 1.
 */
export function startupFailed(service: string, error: unknown): never {
  const log = createLogger(service);
  if (error instanceof EnvError) {
    log.fatal({ invalid: error.issues }, `invalid environment: ${error.issues.join('; ')}`);
  } else {
    log.fatal({ err: error }, 'start-up failed');
  }
  log.flush();
  process.exit(1);
}
