import { describe, expect, it } from '@jest/globals';
import { createLogger, redactUrlCredentials } from './logger.ts';

function capture(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('test', 'info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, log };
}

describe('redactUrlCredentials', () => {
  it('replaces the user information of every URL and keeps the rest', () => {
    expect(redactUrlCredentials('postgresql://kbflow:s3cret@db:5432/kbflow')).toBe('postgresql://[redacted]@db:5432/kbflow');
    expect(redactUrlCredentials('from https://a:b@x.test/p?q=1 and redis://:pw@r:6379')).toBe(
      'from https://[redacted]@x.test/p?q=1 and redis://[redacted]@r:6379',
    );
    expect(redactUrlCredentials('https://x.test/a@b')).toBe('https://x.test/a@b');
    expect(redactUrlCredentials('mailto:a@b.test, no scheme://')).toBe('mailto:a@b.test, no scheme://');
  });

  it('finds schemes that overlap the previous one, in strings of any length', () => {
    // Each ':' ends the previous (empty) authority and starts the next scheme.
    const overlapping = '://'.repeat(21_000) + 'a'.repeat(1_000) + '@host/';
    expect(redactUrlCredentials(overlapping).endsWith('://[redacted]@host/')).toBe(true);
    expect(redactUrlCredentials('x'.repeat(100_000) + ' https://u:p@h/')).not.toContain('u:p@');
  });
});

describe('createLogger', () => {
  it('redacts secret variables and fields wherever they appear', () => {
    const { lines, log } = capture();
    log.info({ DATABASE_URL: 'postgresql://u:p@h/d', env: { QDRANT_API_KEY: 'q-key', KBFLOW_ADMIN_API_KEY: 'admin-key', OPENAI_API_KEY: 'sk-x' } }, 'config');
    const line = JSON.stringify(lines[0]);
    for (const secret of ['u:p@', 'q-key', 'admin-key', 'sk-x']) expect(line).not.toContain(secret);
    expect(lines[0]!.DATABASE_URL).toBe('[redacted]');
  });

  it('strips the credentials of URLs in fields, nested fields, errors and messages', () => {
    const { lines, log } = capture();
    log.warn(
      { url: 'https://user:hunter2@site.test/page', page: { links: ['http://a:b@c.test/'] }, err: new TypeError('connect failed: redis://:pw@cache:6379') },
      'fetch https://me:pass@site.test/x failed',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of ['hunter2', 'a:b@', ':pw@', 'me:pass']) expect(line).not.toContain(secret);
    expect(lines[0]!.url).toBe('https://[redacted]@site.test/page');
    expect((lines[0]!.err as { type: string }).type).toBe('TypeError');
    expect(lines[0]!.msg).toBe('fetch https://[redacted]@site.test/x failed');
  });
});
