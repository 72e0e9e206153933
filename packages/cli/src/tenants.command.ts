/**
 * `./kbflow tenants add|list|show|rm` and `./kbflow keys add|list|revoke`:
 * thin calls to `/v1/admin/tenants` with the admin key (KBFLOW_ADMIN_API_KEY).
 * Tenants are named on the command line by id or by name.
 */
import { parseArgs } from 'node:util';

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;
type Out = (line: string) => void;

const TENANTS_USAGE = [
  'usage: ./kbflow tenants add <name> [--tier starter|professional|enterprise] [--limits \'{"maxApiCallsPerHour":1000}\']',
  '       ./kbflow tenants list',
  '       ./kbflow tenants show <tenant>',
  '       ./kbflow tenants rm <tenant> [--wait]',
].join('\n');

const KEYS_USAGE = [
  'usage: ./kbflow keys add <tenant> <name> [--scopes read,write] [--expires 2027-01-01T00:00:00Z]',
  '       ./kbflow keys list <tenant>',
  '       ./kbflow keys revoke <tenant> <keyId>',
].join('\n');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The id of a tenant given by id or by name. */
async function tenantId(call: Call, ref: string | undefined, usage: string): Promise<string> {
  if (!ref) throw new Error(usage);
  if (UUID.test(ref)) return ref;
  const { json } = await call('GET', '/v1/admin/tenants');
  const found = (json.tenants as { id: string; name: string }[]).find((t) => t.name === ref);
  if (!found) throw new Error(`no tenant named ${ref}`);
  return found.id;
}

const tenantLine = (t: { id: string; name: string; tier: string; limits: unknown; deletedAt: string | null }) =>
  `${t.id}  ${t.name}  ${t.tier}${t.limits ? `  limits ${JSON.stringify(t.limits)}` : ''}${t.deletedAt ? '  (being purged)' : ''}`;

/** Parses limits given as JSON; the API validates the keys and values. */
function parseLimits(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error('--limits must be JSON, e.g. \'{"maxApiCallsPerHour":1000}\'');
  }
}

export async function tenantsCommand(args: string[], call: Call, out: Out, opts: { pollMs?: number } = {}): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { tier: { type: 'string' }, limits: { type: 'string' }, wait: { type: 'boolean' } },
  });
  if (sub === 'add') {
    const name = positionals[0];
    if (!name) throw new Error(TENANTS_USAGE);
    const limits = parseLimits(values.limits);
    const { json } = await call('POST', '/v1/admin/tenants', {
      name,
      ...(values.tier ? { tier: values.tier } : {}),
      ...(limits !== undefined ? { limits } : {}),
    });
    out(tenantLine(json));
  } else if (sub === 'list') {
    const { json } = await call('GET', '/v1/admin/tenants');
    for (const t of json.tenants) out(tenantLine(t));
  } else if (sub === 'show') {
    const id = await tenantId(call, positionals[0], TENANTS_USAGE);
    out(tenantLine((await call('GET', `/v1/admin/tenants/${id}`)).json));
    for (const k of (await call('GET', `/v1/admin/tenants/${id}/keys`)).json.keys) out(keyLine(k));
  } else if (sub === 'rm') {
    const id = await tenantId(call, positionals[0], TENANTS_USAGE);
    let purge = (await call('DELETE', `/v1/admin/tenants/${id}`)).json;
    out(`purge ${purge.id} of ${purge.tenantName}: ${purge.status}`);
    if (!values.wait) return;
    while (purge.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 1000));
      purge = (await call('GET', `/v1/admin/tenants/${id}/purge`)).json;
    }
    out(`purge ${purge.id}: ${purge.status}${purge.error ? ` (${purge.error})` : ''}`);
    if (purge.status !== 'completed') process.exitCode = 1;
  } else {
    throw new Error(TENANTS_USAGE);
  }
}

const keyLine = (k: {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}) =>
  `key ${k.id}  ${k.prefix}…  ${k.name}  [${k.scopes.join(',')}]  created ${k.createdAt}  last used ${k.lastUsedAt ?? 'never'}${k.expiresAt ? `  expires ${k.expiresAt}` : ''}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`;

export async function keysCommand(args: string[], call: Call, out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { scopes: { type: 'string' }, expires: { type: 'string' } } });
  const id = await tenantId(call, positionals[0], KEYS_USAGE);
  if (sub === 'add') {
    const name = positionals[1];
    if (!name) throw new Error(KEYS_USAGE);
    const scopes = (values.scopes ?? 'read,write')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const { json } = await call('POST', `/v1/admin/tenants/${id}/keys`, { name, scopes, ...(values.expires ? { expiresAt: values.expires } : {}) });
    out(keyLine(json));
    out(`key: ${json.key}`);
    out('(shown once: kbflow stores only its hash)');
  } else if (sub === 'list') {
    for (const k of (await call('GET', `/v1/admin/tenants/${id}/keys`)).json.keys) out(keyLine(k));
  } else if (sub === 'revoke') {
    const keyId = positionals[1];
    if (!keyId) throw new Error(KEYS_USAGE);
    out(keyLine((await call('DELETE', `/v1/admin/tenants/${id}/keys/${keyId}`)).json));
  } else {
    throw new Error(KEYS_USAGE);
  }
}
