import { describe, expect, it } from '@jest/globals';
import { keysCommand, tenantsCommand } from './tenants.command.ts';

const TENANT = { id: '0b0e9a4c-1d2e-4f3a-8b5c-6d7e8f9a0b1c', name: 'acme', tier: 'starter', limits: null, deletedAt: null };
const KEY = {
  id: '1c1f0b5d-2e3f-4a4b-9c6d-7e8f9a0b1c2d',
  name: 'ci',
  prefix: 'kbf_abcdefgh',
  scopes: ['read'],
  createdAt: '2026-12-02T00:00:00.000Z',
  lastUsedAt: null,
  expiresAt: null,
  revokedAt: null,
};

/** Records the API calls a command makes and answers them from `answers` (method + path). */
function fakeApi(answers: Record<string, unknown>) {
  const calls: [string, string, unknown][] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    calls.push([method, path, body]);
    const json = answers[`${method} ${path}`];
    if (json === undefined) throw new Error(`unexpected ${method} ${path}`);
    return { status: 200, json };
  };
  const lines: string[] = [];
  return { calls, call, lines, out: (line: string) => lines.push(line) };
}

describe('./kbflow tenants and keys', () => {
  it('tenants add sends the name, tier and limits as given', async () => {
    const api = fakeApi({ 'POST /v1/admin/tenants': TENANT });
    await tenantsCommand(['add', 'acme', '--tier', 'professional', '--limits', '{"maxApiCallsPerHour":10}'], api.call, api.out);
    expect(api.calls).toEqual([['POST', '/v1/admin/tenants', { name: 'acme', tier: 'professional', limits: { maxApiCallsPerHour: 10 } }]]);
    expect(api.lines).toEqual([`${TENANT.id}  acme  starter`]);
  });

  it('refuses limits that are not JSON before calling the API', async () => {
    const api = fakeApi({});
    await expect(tenantsCommand(['add', 'acme', '--limits', '{nope'], api.call, api.out)).rejects.toThrow('--limits must be JSON');
    expect(api.calls).toEqual([]);
  });

  it('keys add finds the tenant by name, sends the scopes, and prints the key once', async () => {
    const api = fakeApi({ 'GET /v1/admin/tenants': { tenants: [TENANT] }, [`POST /v1/admin/tenants/${TENANT.id}/keys`]: { ...KEY, key: 'kbf_secret' } });
    await keysCommand(['add', 'acme', 'ci', '--scopes', 'read'], api.call, api.out);
    expect(api.calls[1]).toEqual(['POST', `/v1/admin/tenants/${TENANT.id}/keys`, { name: 'ci', scopes: ['read'] }]);
    expect(api.lines.filter((l) => l.includes('kbf_secret'))).toEqual(['key: kbf_secret']);
  });

  it('tenants rm --wait polls the purge until it ends', async () => {
    let polls = 0;
    const api = fakeApi({ [`DELETE /v1/admin/tenants/${TENANT.id}`]: { id: 'p1', tenantName: 'acme', status: 'running' } });
    const call = async (method: string, path: string, body?: unknown) => {
      if (path.endsWith('/purge')) return { status: 200, json: { id: 'p1', status: ++polls < 2 ? 'running' : 'completed', error: null } };
      return api.call(method, path, body);
    };
    await tenantsCommand(['rm', TENANT.id, '--wait'], call, api.out, { pollMs: 1 });
    expect(api.lines).toEqual(['purge p1 of acme: running', 'purge p1: completed']);
    expect(polls).toBe(2);
  });

  it('names the usage when the tenant is missing', async () => {
    const api = fakeApi({});
    await expect(keysCommand(['list'], api.call, api.out)).rejects.toThrow('usage: ./kbflow keys');
  });
});
