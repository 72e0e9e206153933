import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Variables that hold secrets, wherever a log line carries them (an env dump, a config object). */
const SECRET_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'QDRANT_API_KEY', 'OPENAI_API_KEY', 'KBFLOW_ADMIN_API_KEY', 'KBFLOW_DEV_API_KEY'];

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
const REDACT_PATHS = [
  'authorization',
  'req.headers.authorization',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  ...SECRET_VARIABLES,
  ...SECRET_VARIABLES.map((name) => `*.${name}`),
];

/**
 * `scheme://user:password@host/...` with the user information replaced,
 * every occurrence in `text`. A hand scanner, not a pattern: it runs on
 * every string of every log line (page URLs as a site gave them, error
 * messages that quote a connection string), so it must be linear; each
 * character is looked at a bounded number of times.
 */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  let out = '';
  let from = 0;
  let at = text.indexOf('://');
  while (at !== -1) {
    const authorityStart = at + 3;
    let end = authorityStart;
    let lastAt = -1;
    while (end < text.length) {
      const c = text.charCodeAt(end);
      // '/', '?', '#', whitespace, quotes and brackets end the authority.
      if (c === 0x2f || c === 0x3f || c === 0x23 || c <= 0x20 || c === 0x22 || c === 0x27 || c === 0x3c || c === 0x3e) break;
      if (c === 0x40) lastAt = end;
      end++;
    }
    if (lastAt !== -1) {
      out += `${text.slice(from, authorityStart)}[redacted]@`;
      from = lastAt + 1;
    }
    // A '://' can begin at the authority's last character (a ':' before the '/' that ended it).
    at = text.indexOf('://', Math.max(authorityStart, end - 1));
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Nested objects deeper than this are left to pino's own serialization. */
const MAX_DEPTH = 4;

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value instanceof Error) {
    // A copy of the same class, so pino's error serializer still names its type.
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>;
    for (const k of Object.getOwnPropertyNames(value)) copy[k] = redactValue((value as unknown as Record<string, unknown>)[k], depth + 1);
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = redactValue(v, depth + 1);
  return copy;
}

/**
 * The one logger factory: JSON to stdout, constant messages with fields,
 * secrets redacted (by path for the known secret fields and variables, and
 * the credentials of any URL in any string field or message, since the
 * scraper logs page URLs as sites give them). `service` is bound on every
 * line. `destination` is for tests.
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    base: { service, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: (object: Record<string, unknown>) => redactValue(object, 0) as Record<string, unknown> },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redactUrlCredentials(a) : a)),
        );
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
