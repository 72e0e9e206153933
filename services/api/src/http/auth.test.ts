import { describe, expect, it } from '@jest/globals';
import { hashApiKey, TIER_LIMITS, type Principal, type TenantRepository } from '@kbflow/db';
import { KeyLookup } from './auth.ts';

/** A key store that counts lookups and records what it was asked with. */
function fakeTenants(valid: Record<string, Principal>) {
  const asked: string[] = [];
  const byHash = new Map(Object.entries(valid).map(([key, p]) => [hashApiKey(key), p]));
  const tenants = {
    authenticateHash: async (hash: string) => {
      asked.push(hash);
      return byHash.get(hash);
    },
  } as unknown as TenantRepository;
  return { tenants, asked };
}

const principal = (over: Partial<Principal> = {}): Principal => ({
  tenantId: 't1',
  apiKeyId: 'k1',
  isAdmin: false,
  scopes: ['read', 'write'],
  limits: TIER_LIMITS.starter,
  ...over,
});

describe('KeyLookup', () => {
  it('looks keys up by hash only, and answers a repeat from the cache', async () => {
    const { tenants, asked } = fakeTenants({ 'kbf_valid-key': principal() });
    const lookup = new KeyLookup(tenants);
    expect(await lookup.principal('kbf_valid-key')).toMatchObject({ tenantId: 't1' });
    expect(await lookup.principal('kbf_valid-key')).toMatchObject({ tenantId: 't1' });
    expect(asked).toEqual([hashApiKey('kbf_valid-key')]);
  });

  it('a flood of random invalid keys never pushes a valid key out of the cache', async () => {
    const { tenants, asked } = fakeTenants({ 'kbf_valid-key': principal() });
    // A TTL far longer than the flood takes, so only eviction (not expiry) could drop the valid key.
    const lookup = new KeyLookup(tenants, { ttlMs: 10 * 60_000 });
    await lookup.principal('kbf_valid-key');
    for (let i = 0; i < 20_000; i++) expect(await lookup.principal(`random-${i}`)).toBeUndefined();
    asked.length = 0;
    expect(await lookup.principal('kbf_valid-key')).toMatchObject({ tenantId: 't1' });
    expect(asked).toEqual([]);
  });

  it('remembers an invalid key for a while, so a repeat costs no lookup', async () => {
    const { tenants, asked } = fakeTenants({});
    const lookup = new KeyLookup(tenants);
    await lookup.principal('nope');
    await lookup.principal('nope');
    expect(asked).toHaveLength(1);
  });

  it('refuses a cached key once it has expired, without waiting for the cache', async () => {
    const { tenants } = fakeTenants({ kbf_short: principal({ expiresAt: new Date(Date.now() + 30) }) });
    const lookup = new KeyLookup(tenants);
    expect(await lookup.principal('kbf_short')).toBeDefined();
    await new Promise((r) => setTimeout(r, 40));
    expect(await lookup.principal('kbf_short')).toBeUndefined();
  });
});
