import { hashApiKey, type ApiKeyScope, type Principal, type TenantRepository } from '@kbflow/db';
import type { Request, RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { ApiError } from './api-error.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point
  namespace Express {
    interface Request {
      principal?: Principal;
    }
  }
}

/**
 * How long a lookup is trusted. A key revoked (or expired, or its tenant
 * purged) through any replica is refused by every replica within this plus
 * one lookup: the promise is 5 s (kbflow issue 12), so 3 s leaves room.
 */
const AUTH_CACHE_TTL_MS = 3_000;
/** Valid keys remembered per process (an LRU: the least recently used goes first). */
const KNOWN_KEYS_MAX = 10_000;
/**
 * Invalid keys remembered per process, in a cache of their own: a client
 * sending random keys churns only this one and can never push a valid key
 * out of the other (kbflow issue 14 item 7).
 */
const UNKNOWN_KEYS_MAX = 1_000;

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
 * Key lookups of one process, cached by the key's SHA-256 (a raw key is
 * never held beyond the request) for {@link AUTH_CACHE_TTL_MS}, in two
 * bounded LRUs (valid, invalid).
 */
export class KeyLookup {
  readonly #tenants: TenantRepository;
  readonly #known: LRUCache<string, Principal>;
  readonly #unknown: LRUCache<string, true>;

  /** `ttlMs`: for tests only (the 5 s revocation promise rests on the default). */
  constructor(tenants: TenantRepository, opts: { ttlMs?: number } = {}) {
    this.#tenants = tenants;
    const ttl = opts.ttlMs ?? AUTH_CACHE_TTL_MS;
    this.#known = new LRUCache<string, Principal>({ max: KNOWN_KEYS_MAX, ttl });
    this.#unknown = new LRUCache<string, true>({ max: UNKNOWN_KEYS_MAX, ttl });
  }

  /** The principal of a key, or undefined for an unknown, revoked or expired one. */
  async principal(key: string): Promise<Principal | undefined> {
    const hash = hashApiKey(key);
    const known = this.#known.get(hash);
    if (known) {
      // A key can expire while cached: its expiry travels with it.
      if (known.expiresAt && known.expiresAt.getTime() <= Date.now()) return undefined;
      return known;
    }
    if (this.#unknown.has(hash)) return undefined;
    const principal = await this.#tenants.authenticateHash(hash);
    if (principal) this.#known.set(hash, principal);
    else this.#unknown.set(hash, true);
    return principal;
  }
}

/**
 * When keys were last used, written in batches: one UPDATE for every key
 * seen since the last flush, every `intervalMs`, instead of a write per
 * request.
 */
export class KeyUseRecorder {
  readonly #tenants: TenantRepository;
  readonly #log: Logger;
  #pending = new Map<string, Date>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(tenants: TenantRepository, log: Logger, intervalMs = 10_000) {
    this.#tenants = tenants;
    this.#log = log;
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Notes a use of the key now. */
  record(apiKeyId: string): void {
    this.#pending.set(apiKeyId, new Date());
  }

  /** Writes what was recorded since the last flush; a failed write is logged and retried at the next flush. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const batch = this.#pending;
      this.#pending = new Map();
      try {
        await this.#tenants.recordKeyUse(batch);
      } catch (err) {
        this.#log.warn({ err, keys: batch.size }, 'could not record API key use');
        for (const [id, at] of batch) if (!this.#pending.has(id)) this.#pending.set(id, at);
      }
    });
    return this.#flushing;
  }

  /** Stops the timer and writes the last batch. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

export interface AuthOptions {
  /** The route needs the admin scope (Bull Board). */
  admin?: boolean;
  basicRealm?: string;
  /** Where key use is noted; omitted, last use is not recorded. */
  keyUse?: KeyUseRecorder;
}

/** Authenticates a request by API key; see {@link KeyLookup} for the caching. */
export function authenticate(tenants: TenantRepository | KeyLookup, opts: AuthOptions = {}): RequestHandler {
  const lookup = tenants instanceof KeyLookup ? tenants : new KeyLookup(tenants);
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
    lookup
      .principal(key)
      .then((principal) => {
        if (!principal) return deny(401, 'unauthorized', 'invalid API key');
        if (opts.admin && !principal.scopes.includes('admin')) return deny(403, 'forbidden', 'this endpoint needs the admin scope');
        opts.keyUse?.record(principal.apiKeyId);
        req.principal = principal;
        next();
      })
      .catch(next);
  };
}

/** Refuses (403, naming the scope) a request whose key lacks `scope`; runs after {@link authenticate}. */
export function requireScope(scope: ApiKeyScope): RequestHandler {
  return (req, _res, next) => {
    const scopes = req.principal?.scopes ?? [];
    if (scopes.includes(scope)) return next();
    next(new ApiError(403, 'forbidden', `this endpoint needs the ${scope} scope; the key has ${scopes.length > 0 ? scopes.join(', ') : 'none'}`));
  };
}
