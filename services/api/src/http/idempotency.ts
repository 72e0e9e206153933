import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { IdempotencyRepository } from '@kbflow/db';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError } from './api-error.ts';
import { streamsBody } from './bulk-rows.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point
  namespace Express {
    interface Request {
      /** SHA-256 of the raw request body, set by {@link captureBodyHash}. */
      bodyHash?: string;
    }
  }
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** 1-200 printable ASCII characters (a UUID is the usual choice). */
const KEY_PATTERN = /^[\x20-\x7e]{1,200}$/;
const EMPTY_BODY_HASH = createHash('sha256').digest('hex');
/** Expired keys are deleted at most this often per process. */
const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * A body-parser `verify` hook: hashes the raw bytes of the body, so "the same
 * request" means the same bytes, whatever the JSON inside (and however deeply
 * nested: nothing is walked).
 */
export function captureBodyHash(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  (req as Express.Request).bodyHash = createHash('sha256').update(buf).digest('hex');
}

export interface IdempotencyDeps {
  /** Where keys are kept; without one the header is validated but not honoured. */
  store: IdempotencyRepository | undefined;
  log: Logger;
  /** How long a reservation holds before a repeat may take it over (longer than the slowest request). */
  leaseMs: number;
}

/**
 * `Idempotency-Key` on every POST. The first request with a key reserves it
 * (an atomic INSERT ... ON CONFLICT in PostgreSQL) and runs; its 2xx response
 * is stored. A repeat with the same key, target (path and query string) and
 * body gets that stored
 * response back (header `Idempotent-Replayed: true`) without running again; a
 * repeat while the first still runs gets 409; the same key on another
 * request gets 422 `idempotency_key_reused`. A response that is not 2xx
 * changed nothing, so it releases the key and the client may retry with it.
 * Keys are kept 24 h.
 */
export function idempotency(deps: IdempotencyDeps): RequestHandler {
  let lastSweep = 0;
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const key = req.headers['idempotency-key'];
    if (key === undefined) return next();
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      return next(new ApiError(400, 'invalid_field', `${IDEMPOTENCY_HEADER} must be 1-200 printable ASCII characters`, { field: IDEMPOTENCY_HEADER }));
    }
    const store = deps.store;
    if (!store) return next();
    // Streamed bulk bodies (records, cases) are read by their route after this
    // runs, so there is no body hash to key on yet. The key is honoured for
    // JSON-parsed bodies only; bulk ingestion is itself idempotent (a repeat
    // of the same rows is reported `unchanged` and embeds nothing).
    if (req.bodyHash === undefined && streamsBody(req)) return next();
    const tenantId = req.principal!.tenantId;
    // The full target, query string included: `POST /v1/cases?knowledgeBase=a`
    // and `?knowledgeBase=b` with one key and body are different requests.
    const path = req.originalUrl;
    const requestHash = createHash('sha256').update(`${req.method} ${path}\n${req.bodyHash ?? EMPTY_BODY_HASH}`).digest('hex');

    if (Date.now() - lastSweep > SWEEP_EVERY_MS) {
      lastSweep = Date.now();
      store.deleteExpired().catch((err: unknown) => deps.log.warn({ err }, 'could not delete expired idempotency keys'));
    }

    store
      .reserve({ tenantId, key, method: req.method, path, requestHash, leaseMs: deps.leaseMs })
      .then((claim) => {
        switch (claim.outcome) {
          case 'reserved':
            settleOnResponse(res, store, deps.log, tenantId, key);
            return next();
          case 'completed':
            res.status(claim.status).set('Idempotent-Replayed', 'true').type('application/json').send(claim.body);
            return;
          case 'in-progress':
            return next(
              new ApiError(409, 'idempotency_key_in_use', `a request with this ${IDEMPOTENCY_HEADER} is still running; retry shortly`, {
                field: IDEMPOTENCY_HEADER,
                headers: { 'Retry-After': '1' },
              }),
            );
          case 'mismatch':
            return next(
              new ApiError(422, 'idempotency_key_reused', `this ${IDEMPOTENCY_HEADER} was used for a different request (${claim.method} ${claim.path} with another body)`, {
                field: IDEMPOTENCY_HEADER,
              }),
            );
        }
      })
      .catch(next);
  };
}

/**
 * Hooks the response of a request that holds a reservation: a 2xx body is
 * stored before it is sent (so a retry that follows the answer finds it),
 * anything else releases the key. A client that disconnects early does not
 * release it: the handler may still enqueue, and the stored answer must win.
 */
function settleOnResponse(res: Response, store: IdempotencyRepository, log: Logger, tenantId: string, key: string): void {
  const send = res.json.bind(res);
  let settled = false;
  res.json = ((body: unknown) => {
    if (settled) return send(body);
    settled = true;
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const write = ok ? store.complete(tenantId, key, res.statusCode, JSON.stringify(body)) : store.release(tenantId, key);
    write
      .catch((err: unknown) => log.warn({ err, status: res.statusCode }, ok ? 'could not store an idempotent response' : 'could not release an idempotency key'))
      .finally(() => send(body));
    return res;
  }) as Response['json'];
  // A response sent by other means than res.json (none today) must not hold the key until its lease ends.
  res.on('finish', () => {
    if (settled) return;
    settled = true;
    store.release(tenantId, key).catch((err: unknown) => log.warn({ err }, 'could not release an idempotency key'));
  });
}
