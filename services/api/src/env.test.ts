import { describe, expect, it } from '@jest/globals';
import { EnvError } from '@kbflow/config';
import { loadEnv } from './env.ts';

const STRONG = '3f9c1b7e0a5d4c2e8b6f1a9d7c3e5b0f4a2d6c8e1b3f5a7d9c0e2b4f6a8d1c3e';

function issuesOf(source: Record<string, string>): string[] {
  try {
    loadEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.issues;
    throw error;
  }
  return [];
}

describe('api environment', () => {
  it('locally binds loopback and has the dev keys', () => {
    const env = loadEnv({});
    expect(env.KBFLOW_API_HOST).toBe('127.0.0.1');
    expect(env.KBFLOW_DEV_API_KEY).toBe('dev-key');
    expect(env.KBFLOW_ADMIN_API_KEY).toBe('dev-admin-key');
    expect(env.devKeyIsBuiltIn).toBe(true);
  });

  it('knows a dev key the operator set, so that it is never printed', () => {
    const env = loadEnv({ KBFLOW_DEV_API_KEY: 'my-own-local-key' });
    expect(env.KBFLOW_DEV_API_KEY).toBe('my-own-local-key');
    expect(env.devKeyIsBuiltIn).toBe(false);
  });

  it('in production, refuses to start without an admin key, naming the variable', () => {
    expect(issuesOf({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^KBFLOW_ADMIN_API_KEY: is required in production/)]);
  });

  it.each([
    ['the built-in default', 'dev-admin-key', /built-in development default/],
    ["the Kubernetes template's placeholder", 'REPLACE_ME', /placeholder/],
    ['a placeholder inside a longer value', 'please-changeme-0123456789abcdefghijklmnop', /placeholder/],
    ['a short key', 'k3y-9f2a7c', /shorter than 32/],
    ['a repetitive key', 'abababababababababababababababababab', /distinct characters/],
  ])('in production, refuses %s as the admin key and never prints it', (_label, value, reason) => {
    const issues = issuesOf({ NODE_ENV: 'production', KBFLOW_ADMIN_API_KEY: value });
    expect(issues).toEqual([expect.stringMatching(new RegExp(`^KBFLOW_ADMIN_API_KEY: .*${reason.source}`))]);
    expect(issues.join('\n')).not.toContain(value);
  });

  it('in production, refuses any dev key, even a strong one, and has no dev tenant', () => {
    for (const devKey of ['dev-key', STRONG.split('').reverse().join('')]) {
      const issues = issuesOf({ NODE_ENV: 'production', KBFLOW_ADMIN_API_KEY: STRONG, KBFLOW_DEV_API_KEY: devKey });
      expect(issues).toEqual([expect.stringMatching(/^KBFLOW_DEV_API_KEY: is not used in production/)]);
      expect(issues.join('\n')).not.toContain(devKey);
    }
    const env = loadEnv({ NODE_ENV: 'production', KBFLOW_ADMIN_API_KEY: STRONG });
    expect(env.KBFLOW_ADMIN_API_KEY).toBe(STRONG);
    expect(env.KBFLOW_DEV_API_KEY).toBeUndefined();
  });
});
