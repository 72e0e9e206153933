import type { Db } from './client.ts';

/** What a request carrying an `Idempotency-Key` finds when it claims the key. */
export type IdempotencyClaim =
  /** The key is this request's now: run it, then {@link IdempotencyRepository.complete} or {@link IdempotencyRepository.release}. */
  | { outcome: 'reserved' }
  /** An earlier request with this key finished: answer with its response (`bodyHash`: a streamed body's, to compare the repeat's with). */
  | { outcome: 'completed'; status: number; body: string; bodyHash: string | null }
  /** An earlier request with this key is still running. */
  | { outcome: 'in-progress' }
  /** The key was used for another request (another path or body). */
  | { outcome: 'mismatch'; method: string; path: string };

export interface IdempotencyRequest {
  tenantId: string;
  key: string;
  method: string;
  path: string;
  /** SHA-256 of method, path and raw body: what makes a repeat "the same request". */
  requestHash: string;
  /**
   * How long the reservation holds before another request with the same key
   * and body may take it over: the bound on a stuck key when the process that
   * reserved it died mid-request.
   */
  leaseMs: number;
}

/** How long a key is remembered (24 h, the usual contract of `Idempotency-Key`). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/**
 * Idempotency keys in PostgreSQL. The reservation is one atomic
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE` statement: of any number of
 * concurrent requests with one key, exactly one gets the row, and an expired
 * row (or an abandoned reservation of the same request) is taken over in the
 * same statement.
 */
export class IdempotencyRepository {
  private readonly db: Db;
  private readonly ttlMs: number;

  constructor(db: Db, opts: { ttlMs?: number } = {}) {
    this.db = db;
    this.ttlMs = opts.ttlMs ?? IDEMPOTENCY_TTL_MS;
  }

  /** Claims a key for a request, or reports what an earlier request with it left. */
  async reserve(req: IdempotencyRequest): Promise<IdempotencyClaim> {
    // Two rounds at most: the row seen as taken can be released (deleted)
    // between the INSERT and the SELECT, and then the key is free again.
    for (let round = 0; round < 2; round++) {
      const reserved = await this.db.$queryRaw<{ reserved: boolean }[]>`
        INSERT INTO "idempotency_keys" ("tenant_id", "key", "method", "path", "request_hash", "locked_until", "expires_at")
        VALUES (${req.tenantId}::uuid, ${req.key}, ${req.method}, ${req.path}, ${req.requestHash},
                now() + (${req.leaseMs}::int * interval '1 millisecond'), now() + (${this.ttlMs}::bigint * interval '1 millisecond'))
        ON CONFLICT ("tenant_id", "key") DO UPDATE SET
          "method" = EXCLUDED."method", "path" = EXCLUDED."path", "request_hash" = EXCLUDED."request_hash",
          "status" = NULL, "response" = NULL, "body_hash" = NULL, "created_at" = now(),
          "locked_until" = EXCLUDED."locked_until", "expires_at" = EXCLUDED."expires_at"
        WHERE "idempotency_keys"."expires_at" <= now()
           OR ("idempotency_keys"."status" IS NULL AND "idempotency_keys"."locked_until" <= now()
               AND "idempotency_keys"."request_hash" = EXCLUDED."request_hash")
        RETURNING true AS reserved`;
      if (reserved.length > 0) return { outcome: 'reserved' };

      const row = await this.db.idempotencyKey.findUnique({ where: { tenantId_key: { tenantId: req.tenantId, key: req.key } } });
      if (!row) continue;
      if (row.requestHash !== req.requestHash) return { outcome: 'mismatch', method: row.method, path: row.path };
      if (row.status === null || row.response === null) return { outcome: 'in-progress' };
      return { outcome: 'completed', status: row.status, body: row.response, bodyHash: row.bodyHash };
    }
    return { outcome: 'in-progress' };
  }

  /** Stores the response of a reserved key (and a streamed body's hash); repeats get it until the key expires. */
  async complete(tenantId: string, key: string, status: number, body: string, bodyHash?: string): Promise<void> {
    await this.db.idempotencyKey.updateMany({ where: { tenantId, key, status: null }, data: { status, response: body, ...(bodyHash ? { bodyHash } : {}) } });
  }

  /** Holds a reservation another `leaseMs` (its response is done but not stored yet). */
  async extendLease(tenantId: string, key: string, leaseMs: number): Promise<void> {
    await this.db.idempotencyKey.updateMany({ where: { tenantId, key, status: null }, data: { lockedUntil: new Date(Date.now() + leaseMs) } });
  }

  /** Gives a reserved key up (the request failed and changed nothing): the client may retry with it. */
  async release(tenantId: string, key: string): Promise<void> {
    await this.db.idempotencyKey.deleteMany({ where: { tenantId, key, status: null } });
  }

  /** Deletes expired keys; returns how many. */
  async deleteExpired(now: Date = new Date()): Promise<number> {
    const { count } = await this.db.idempotencyKey.deleteMany({ where: { expiresAt: { lte: now } } });
    return count;
  }
}
