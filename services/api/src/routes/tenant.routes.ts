import { API_KEY_SCOPES, TENANT_TIERS, TenantNameTakenError, type ApiKeyView, type TenantPurgeView, type TenantRepository, type TenantView } from '@kbflow/db';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import type { TenantPurger } from '../tenant-purger.ts';

export interface TenantRouteDeps {
  tenants: TenantRepository;
  purger: TenantPurger;
  log: Logger;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isoDate = z.string().describe('ISO 8601 date-time (UTC)');

const limitValue = z.number().int().min(0).max(1_000_000_000);
/** Overrides of the tier's limits (stored; enforcing them is not built yet). Unknown keys are refused. */
const tenantLimits = z
  .strictObject({
    maxConcurrentProcessing: limitValue.optional(),
    maxDocumentsPerKnowledgeBase: limitValue.optional(),
    maxApiCallsPerHour: limitValue.optional(),
    maxVectorOperationsPerMinute: limitValue.optional(),
  })
  .meta({ id: 'TenantLimits' });

const tenantName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, dot, dash and underscore, starting with a letter or digit');

const createTenantBody = z.strictObject({
  name: tenantName,
  tier: z.enum(TENANT_TIERS).default('starter'),
  limits: tenantLimits.nullable().optional(),
});

const updateTenantBody = z
  .strictObject({ tier: z.enum(TENANT_TIERS).optional(), limits: tenantLimits.nullable().optional() })
  .refine((b) => b.tier !== undefined || b.limits !== undefined, { message: 'give tier or limits', path: ['tier'] });

const createKeyBody = z.strictObject({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
    .optional(),
});

const tenantParam = z.object({ id: z.string().describe('tenant id (UUID)') });
const keyParam = z.object({ id: z.string().describe('tenant id (UUID)'), keyId: z.string().describe('key id (UUID)') });

const tenantSchema = z
  .object({ id: z.string(), name: z.string(), tier: z.enum(TENANT_TIERS), limits: tenantLimits.nullable(), createdAt: isoDate, deletedAt: isoDate.nullable() })
  .meta({ id: 'Tenant' });
const purgeSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    tenantName: z.string(),
    status: z.enum(['running', 'completed', 'failed']),
    error: z.string().nullable(),
    startedAt: isoDate,
    finishedAt: isoDate.nullable(),
  })
  .meta({ id: 'TenantPurge' });
const keySchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    prefix: z.string().describe('the first characters of the key, to tell keys apart'),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    createdAt: isoDate,
    expiresAt: isoDate.nullable(),
    lastUsedAt: isoDate.nullable().describe('written in batches: up to ~10 s behind'),
    revokedAt: isoDate.nullable(),
  })
  .meta({ id: 'ApiKey' });
const createdKeySchema = keySchema.extend({ key: z.string().describe('the key itself: shown this once, stored only as a hash') }).meta({ id: 'CreatedApiKey' });

const tenantJson = (t: TenantView) => ({ ...t, createdAt: t.createdAt.toISOString(), deletedAt: t.deletedAt?.toISOString() ?? null });
const purgeJson = (p: TenantPurgeView) => ({ ...p, startedAt: p.startedAt.toISOString(), finishedAt: p.finishedAt?.toISOString() ?? null });
const keyJson = (k: ApiKeyView) => ({
  id: k.id,
  tenantId: k.tenantId,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  createdAt: k.createdAt.toISOString(),
  expiresAt: k.expiresAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

const tenantNotFound = (id: string) => new ApiError(404, 'tenant_not_found', `no tenant ${id}`, { field: 'id' });

/**
 * `/v1/admin/tenants`: tenants and their API keys (admin key). Keys are
 * returned once, when created; afterwards only their prefix is shown.
 */
export function tenantRoutes(deps: TenantRouteDeps): ApiRoutes {
  const router = new ApiRoutes();
  const tenantOf = async (raw: string): Promise<TenantView> => {
    const tenant = UUID_RE.test(raw) ? await deps.tenants.getTenant(raw) : undefined;
    if (!tenant) throw tenantNotFound(raw);
    return tenant;
  };

  router.post(
    '/admin/tenants',
    {
      operationId: 'createTenant',
      summary: 'Create a tenant (admin)',
      tags: ['admin'],
      access: 'admin',
      body: createTenantBody,
      responses: { 201: { description: 'the tenant', schema: tenantSchema } },
      errors: { 409: ['tenant_name_taken'] },
      example: { body: { name: 'acme-example', tier: 'professional' } },
    },
    async (_req, res, input) => {
      const body = input.body();
      try {
        const tenant = await deps.tenants.createTenant({ name: body.name, tier: body.tier, limits: body.limits ?? null });
        deps.log.info({ tenantId: tenant.id, tier: tenant.tier }, 'tenant created');
        res.status(201).json(tenantJson(tenant));
      } catch (error) {
        if (error instanceof TenantNameTakenError) throw new ApiError(409, 'tenant_name_taken', error.message, { field: 'name' });
        throw error;
      }
    },
  );

  router.get(
    '/admin/tenants',
    {
      operationId: 'listTenants',
      summary: 'Every tenant (admin)',
      tags: ['admin'],
      access: 'admin',
      responses: { 200: { description: 'tenants by name', schema: z.object({ tenants: z.array(tenantSchema) }).meta({ id: 'TenantList' }) } },
      example: {},
    },
    async (_req, res) => {
      res.json({ tenants: (await deps.tenants.listTenants()).map(tenantJson) });
    },
  );

  router.get(
    '/admin/tenants/:id',
    {
      operationId: 'getTenant',
      summary: 'One tenant (admin)',
      tags: ['admin'],
      access: 'admin',
      params: tenantParam,
      responses: { 200: { description: 'the tenant', schema: tenantSchema } },
      errors: { 404: ['tenant_not_found'] },
      example: { params: { id: '{tenantId}' } },
    },
    async (req, res) => {
      res.json(tenantJson(await tenantOf(String(req.params.id))));
    },
  );

  router.patch(
    '/admin/tenants/:id',
    {
      operationId: 'updateTenant',
      summary: "Change a tenant's tier or limit overrides (admin)",
      tags: ['admin'],
      access: 'admin',
      params: tenantParam,
      body: updateTenantBody,
      responses: { 200: { description: 'the tenant', schema: tenantSchema } },
      errors: { 404: ['tenant_not_found'] },
      example: { params: { id: '{tenantId}' }, body: { tier: 'enterprise' } },
    },
    async (req, res, input) => {
      const id = String(req.params.id);
      const body = input.body();
      const updated = UUID_RE.test(id)
        ? await deps.tenants.updateTenant(id, { ...(body.tier ? { tier: body.tier } : {}), ...(body.limits !== undefined ? { limits: body.limits } : {}) })
        : undefined;
      if (!updated) throw tenantNotFound(id);
      res.json(tenantJson(updated));
    },
  );

  router.delete(
    '/admin/tenants/:id',
    {
      operationId: 'deleteTenant',
      summary: 'Purge a tenant: every row, vector, cache entry and queued job (admin)',
      description: "The tenant's keys stop working at once; the purge runs in the background: poll `GET /v1/admin/tenants/{id}/purge` until `completed`.",
      tags: ['admin'],
      access: 'admin',
      params: tenantParam,
      responses: { 202: { description: 'the purge, started', schema: purgeSchema } },
      errors: { 404: ['tenant_not_found'] },
      example: { params: { id: '{doomedTenantId}' } },
    },
    async (req, res) => {
      const id = String(req.params.id);
      const purge = UUID_RE.test(id) ? await deps.purger.start(id) : undefined;
      if (!purge) throw tenantNotFound(id);
      deps.log.info({ tenantId: id, purgeId: purge.id }, 'tenant purge started');
      res.status(202).set('Location', `/v1/admin/tenants/${id}/purge`).json(purgeJson(purge));
    },
  );

  router.get(
    '/admin/tenants/:id/purge',
    {
      operationId: 'getTenantPurge',
      summary: "Where a tenant's purge is (admin)",
      tags: ['admin'],
      access: 'admin',
      params: tenantParam,
      responses: { 200: { description: 'the latest purge of the tenant', schema: purgeSchema } },
      errors: { 404: ['purge_not_found'] },
      example: { params: { id: '{purgedTenantId}' } },
    },
    async (req, res) => {
      const id = String(req.params.id);
      const purge = UUID_RE.test(id) ? await deps.tenants.getPurge(id) : undefined;
      if (!purge) throw new ApiError(404, 'purge_not_found', `no purge of tenant ${id}`, { field: 'id' });
      res.json(purgeJson(purge));
    },
  );

  router.post(
    '/admin/tenants/:id/keys',
    {
      operationId: 'createApiKey',
      summary: 'Issue an API key for a tenant (admin)',
      tags: ['admin'],
      access: 'admin',
      params: tenantParam,
      body: createKeyBody,
      responses: { 201: { description: 'the key, shown this once', schema: createdKeySchema } },
      errors: { 404: ['tenant_not_found'] },
      example: { params: { id: '{tenantId}' }, body: { name: 'ci', scopes: ['read'] } },
    },
    async (req, res, input) => {
      const id = String(req.params.id);
      const body = input.body();
      const created = UUID_RE.test(id)
        ? await deps.tenants.createKey(id, { name: body.name, scopes: body.scopes, expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined })
        : undefined;
      if (!created) throw tenantNotFound(id);
      deps.log.info({ tenantId: id, apiKeyId: created.view.id, scopes: created.view.scopes }, 'api key issued');
      res.status(201).json({ ...keyJson(created.view), key: created.key });
    },
  );

  router.get(
    '/admin/tenants/:id/keys',
    {
      operationId: 'listApiKeys',
      summary: "A tenant's API keys, without the keys (admin)",
      tags: ['admin'],
      access: 'admin',
      params: tenantParam,
      responses: { 200: { description: 'newest first, revoked ones included', schema: z.object({ keys: z.array(keySchema) }).meta({ id: 'ApiKeyList' }) } },
      errors: { 404: ['tenant_not_found'] },
      example: { params: { id: '{tenantId}' } },
    },
    async (req, res) => {
      const tenant = await tenantOf(String(req.params.id));
      res.json({ keys: (await deps.tenants.listKeys(tenant.id)).map(keyJson) });
    },
  );

  router.delete(
    '/admin/tenants/:id/keys/:keyId',
    {
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key (admin)',
      tags: ['admin'],
      access: 'admin',
      params: keyParam,
      description: 'Refused by every API replica within 5 s; never brought back by a restart.',
      responses: { 200: { description: 'the revoked key', schema: keySchema } },
      errors: { 404: ['tenant_not_found', 'api_key_not_found'] },
      example: { params: { id: '{tenantId}', keyId: '{keyId}' } },
    },
    async (req, res) => {
      const tenant = await tenantOf(String(req.params.id));
      const keyId = String(req.params.keyId);
      const revoked = UUID_RE.test(keyId) ? await deps.tenants.revokeKey(tenant.id, keyId) : undefined;
      if (!revoked) throw new ApiError(404, 'api_key_not_found', `tenant ${tenant.id} has no key ${keyId}`, { field: 'keyId' });
      deps.log.info({ tenantId: tenant.id, apiKeyId: keyId }, 'api key revoked');
      res.json(keyJson(revoked));
    },
  );

  return router;
}
