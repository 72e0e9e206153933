import type { Principal, TenantRepository } from '@kbflow/db';
import type { Request, RequestHandler } from 'express';
import { ApiError } from './api-error.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point
  namespace Express {
    interface Request {
      principal?: Principal;
    }
  }
}

const CACHE_TTL_MS = 30_000;

/** The key a request presents: `Authorization: Bearer <key>`, or Basic with the key as password (browsers, Bull Board). */
export function presentedKey(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Authenticates a request by API key. Lookups are cached for 30 s per key
 * hash, so revoking a key takes effect within that time.
 */
export function authenticate(tenants: TenantRepository, opts: { admin?: boolean; basicRealm?: string } = {}): RequestHandler {
  const cache = new Map<string, { principal: Principal | undefined; until: number }>();
  return (req, res, next) => {
    const key = presentedKey(req);
    const deny = (status: number, code: string, message: string) => {
      if (opts.basicRealm) res.set('WWW-Authenticate', `Basic realm="${opts.basicRealm}"`);
      // A refused request's body is never read: closing the connection after
      // the answer spares Node draining it to keep the connection alive.
      if (hasBody(req)) res.set('Connection', 'close');
      next(new ApiError(status, code, message));
    };
    if (!key) return deny(401, 'unauthorized', 'missing API key: send Authorization: Bearer <key>');
    const cached = cache.get(key);
    const lookup = cached && cached.until > Date.now() ? Promise.resolve(cached.principal) : tenants.authenticate(key);
    lookup
      .then((principal) => {
        if (!cached || cached.until <= Date.now()) {
          if (cache.size > 10_000) cache.clear();
          cache.set(key, { principal, until: Date.now() + CACHE_TTL_MS });
        }
        if (!principal) return deny(401, 'unauthorized', 'invalid API key');
        if (opts.admin && !principal.isAdmin) return deny(403, 'forbidden', 'this endpoint needs the admin key');
        req.principal = principal;
        next();
      })
      .catch(next);
  };
}
