import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { IdempotencyRepository } from '@kbflow/db';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError } from './api-error.ts';
import { streamsBody } from './bulk-body.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point
  namespace Express {
    interface Request {
      /** SHA-256 of the raw request body, set by {@link captureBodyHash}. */
      bodyHash?: string;
    }
  }
}

const IDEMPOTENCY_HEADER = 'Idempotency-Key';
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
  /** Cap on a streamed body a repeat is read through to compare it (KBFLOW_RECORDS_MAX_BYTES, as its route would read it). */
  maxStreamedBytes: number;
}

/** Tries at storing a response before it is sent (then it goes on in the background), and the first wait between them. */
const STORE_ATTEMPTS = 5;
const STORE_RETRY_MS = 200;
/** How long the background retries of an unstored response go on (renewing the lease each time). */
const STORE_BACKGROUND_MS = 10 * 60_000;

/** What a streamed body is hashed as in `request_hash`: its bytes are compared through `body_hash`. */
const STREAMED_BODY = 'streamed body';

/**
 * Hashes a streamed body's raw bytes as its route reads them, whichever way
 * it reads (pipe, async iteration: both emit 'data'), and sets
 * `req.bodyHash` at its end. The stream is paused first so that listening
 * does not start the flow before the route does.
 */
function hashWhileRead(req: IncomingMessage & { bodyHash?: string }): void {
  const hash = createHash('sha256');
  req.pause();
  req.on('data', (chunk: Buffer) => hash.update(chunk));
  req.once('end', () => {
    req.bodyHash = hash.digest('hex');
  });
}

/** Reads a streamed body to its end only to hash it (a repeat, compared with the stored one); undefined when it is over `maxBytes` or cut short. */
function drainForHash(req: IncomingMessage & { bodyHash?: string }, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) {
        req.destroy();
        resolve(undefined);
      }
    });
    req.once('end', () => resolve(req.bodyHash));
    req.once('close', () => resolve(req.readableEnded ? req.bodyHash : undefined));
    req.resume();
  });
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
    // Streamed bulk bodies (records, cases, documents) are read by their
    // route after this runs, so their hash is known only at the end: the
    // reservation covers method and target, the body's hash is taken as the
    // route reads it and stored with the response, and a repeat is read
    // through and compared byte for byte before it is answered.
    const streamed = req.bodyHash === undefined && streamsBody(req);
    if (streamed) hashWhileRead(req);
    const tenantId = req.principal!.tenantId;
    // The full target, query string included: `POST /v1/cases?knowledgeBase=a`
    // and `?knowledgeBase=b` with one key and body are different requests.
    const path = req.originalUrl;
    const requestHash = createHash('sha256')
      .update(`${req.method} ${path}\n${streamed ? STREAMED_BODY : (req.bodyHash ?? EMPTY_BODY_HASH)}`)
      .digest('hex');

    if (Date.now() - lastSweep > SWEEP_EVERY_MS) {
      lastSweep = Date.now();
      store.deleteExpired().catch((err: unknown) => deps.log.warn({ err }, 'could not delete expired idempotency keys'));
    }

    store
      .reserve({ tenantId, key, method: req.method, path, requestHash, leaseMs: deps.leaseMs })
      .then((claim) => {
        switch (claim.outcome) {
          case 'reserved':
            settleOnResponse(req, res, store, deps, tenantId, key, streamed);
            return next();
          case 'completed':
            if (!streamed) {
              res.status(claim.status).set('Idempotent-Replayed', 'true').type('application/json').send(claim.body);
              return;
            }
            return drainForHash(req, deps.maxStreamedBytes).then((bodyHash) => {
              if (bodyHash !== undefined && bodyHash === claim.bodyHash) {
                res.status(claim.status).set('Idempotent-Replayed', 'true').type('application/json').send(claim.body);
                return;
              }
              next(
                new ApiError(
                  422,
                  'idempotency_key_reused',
                  `this ${IDEMPOTENCY_HEADER} was used for a different request (${req.method} ${path} with another body)`,
                  {
                    field: IDEMPOTENCY_HEADER,
                  },
                ),
              );
            });
          case 'in-progress':
            return next(
              new ApiError(409, 'idempotency_key_in_use', `a request with this ${IDEMPOTENCY_HEADER} is still running; retry shortly`, {
                field: IDEMPOTENCY_HEADER,
                headers: { 'Retry-After': '1' },
              }),
            );
          case 'mismatch':
            return next(
              new ApiError(
                422,
                'idempotency_key_reused',
                `this ${IDEMPOTENCY_HEADER} was used for a different request (${claim.method} ${claim.path} with another body)`,
                {
                  field: IDEMPOTENCY_HEADER,
                },
              ),
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
 *
 * The store is part of the reservation's lease: if it fails (PostgreSQL
 * blinking), it is tried again a few times before the answer goes out, then
 * in the background for up to {@link STORE_BACKGROUND_MS}, renewing the
 * lease each time, so that a retry meanwhile finds the key in progress (409)
 * instead of taking it over and running the request a second time.
 */
function settleOnResponse(
  req: IncomingMessage & { bodyHash?: string },
  res: Response,
  store: IdempotencyRepository,
  deps: IdempotencyDeps,
  tenantId: string,
  key: string,
  streamed: boolean,
): void {
  const log = deps.log;
  const send = res.json.bind(res);
  let settled = false;
  res.json = ((body: unknown) => {
    if (settled) return send(body);
    settled = true;
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    if (!ok) {
      store
        .release(tenantId, key)
        .catch((err: unknown) => log.warn({ err, status: res.statusCode }, 'could not release an idempotency key'))
        .finally(() => send(body));
      return res;
    }
    const text = JSON.stringify(body);
    // A streamed body's hash exists once its route read it all (it has, to answer 2xx).
    const bodyHash = streamed ? req.bodyHash : undefined;
    const complete = () => store.complete(tenantId, key, res.statusCode, text, bodyHash);
    void storeWithRetry(complete, () => store.extendLease(tenantId, key, deps.leaseMs), log).finally(() => send(body));
    return res;
  }) as Response['json'];
  // A response sent by other means than res.json (none today) must not hold the key until its lease ends.
  res.on('finish', () => {
    if (settled) return;
    settled = true;
    store.release(tenantId, key).catch((err: unknown) => log.warn({ err }, 'could not release an idempotency key'));
  });
}

/** Resolves once stored or after {@link STORE_ATTEMPTS} tries; goes on in the background after that. */
async function storeWithRetry(complete: () => Promise<void>, renew: () => Promise<void>, log: Logger): Promise<void> {
  let wait = STORE_RETRY_MS;
  for (let attempt = 1; attempt <= STORE_ATTEMPTS; attempt++) {
    try {
      await complete();
      return;
    } catch (err) {
      log.warn({ err, attempt }, 'could not store an idempotent response; trying again');
      await renew().catch(() => undefined);
      if (attempt < STORE_ATTEMPTS) await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
    }
  }
  log.error('an idempotent response is not stored yet; answering, and storing it in the background');
  const until = Date.now() + STORE_BACKGROUND_MS;
  const retry = (): void => {
    if (Date.now() > until) {
      log.error('gave up storing an idempotent response: a retry after its lease may run the request again');
      return;
    }
    renew()
      .catch(() => undefined)
      .then(complete)
      .then(() => log.info('stored an idempotent response late'))
      .catch(() => setTimeout(retry, 5000).unref());
  };
  setTimeout(retry, 5000).unref();
}
