import { describe, expect, it } from '@jest/globals';
import { assertUrlAllowed, guardedLookup, isPublicAddress, type Resolver } from './address-guard.ts';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '224.0.0.1',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111'])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('assertUrlAllowed', () => {
  it('refuses private address literals and localhost unless private networks are allowed', () => {
    for (const url of ['http://127.0.0.1/', 'http://10.0.0.5:8080/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://localhost:3000/']) {
      expect(() => assertUrlAllowed(new URL(url), false)).toThrow(/refusing/);
      expect(() => assertUrlAllowed(new URL(url), true)).not.toThrow();
    }
  });

  it('refuses non-http schemes even when private networks are allowed', () => {
    expect(() => assertUrlAllowed(new URL('file:///etc/passwd'), true)).toThrow(/only http and https/);
  });
});

describe('guardedLookup', () => {
  it('refuses a name that resolves to loopback, after resolution', async () => {
    const error = await new Promise<Error | null>((resolve) => guardedLookup(false)('localhost', {}, (err) => resolve(err)));
    expect(error?.message).toMatch(/refusing localhost: it resolves to (127\.0\.0\.1|::1)/);
  });

  it('resolves it when private networks are allowed', async () => {
    const address = await new Promise<string>((resolve, reject) =>
      guardedLookup(true)('localhost', {}, (err, addr) => (err ? reject(err) : resolve(String(addr)))),
    );
    expect(['127.0.0.1', '::1']).toContain(address);
  });
});

describe('an injected address policy', () => {
  const policy = {
    resolve: ((_host, _opts, cb) => cb(null, [{ address: '127.0.0.2', family: 4 }])) as Resolver,
    isPublic: (address: string) => address === '127.0.0.2',
  };

  it('resolves and classifies through the policy', async () => {
    const address = await new Promise<string>((resolve, reject) =>
      guardedLookup(false, policy)('public.test', {}, (err, addr) => (err ? reject(err) : resolve(String(addr)))),
    );
    expect(address).toBe('127.0.0.2');
    expect(() => assertUrlAllowed(new URL('http://127.0.0.2/'), false, policy)).not.toThrow();
    expect(() => assertUrlAllowed(new URL('http://127.0.0.1/'), false, policy)).toThrow(/refusing 127\.0\.0\.1/);
  });
});
