import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
const REDACT_PATHS = [
  'authorization',
  'req.headers.authorization',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'OPENAI_API_KEY',
];

/**
 * The one logger factory: JSON to stdout, constant messages with fields,
 * secrets redacted. `service` is bound on every line.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
