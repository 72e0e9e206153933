import { AppError } from '@kbflow/errors';

/**
 * PostgreSQL's connection failed under a query sent on the pool directly
 * (see {@link rethrowConnectionError}): the database, not the query, is the
 * problem, so the work waits for it instead of spending an attempt.
 */
export class DatabaseUnavailableError extends AppError {
  constructor(message: string, cause: unknown) {
    super('database_unavailable', message, { retryable: true, cause });
  }
}

/**
 * Whether an error says PostgreSQL cannot be reached right now (down,
 * restarting, refusing connections, the connection dropped), as opposed to
 * a query that failed on its own merits (a constraint, a bad value), which
 * would fail again however long one waited.
 *
 * How the errors arrive here (measured with Prisma 7.10 over
 * @prisma/adapter-pg, see test/database-unavailable.int.test.ts):
 * - model operations and transactions: `PrismaClientKnownRequestError` with
 *   code P1001 (can't reach the server), P1017 (server closed the
 *   connection) or P2024 (no connection from the pool in time);
 * - raw queries: the same class with code P2010 ("raw query failed"), the
 *   real reason only in `meta.driverAdapterError.cause`: `kind`
 *   DatabaseNotReachable / ConnectionClosed / SocketTimeout /
 *   TooManyConnections, or `kind: 'postgres'` with a SQLSTATE such as
 *   57P01 (terminating connection due to administrator command);
 * - a connection dropped mid-query: node-postgres's plain
 *   `Error('Connection terminated unexpectedly')`, passed through untouched;
 * - the pool used directly (COPY): pg's server errors with their SQLSTATE
 *   (and a `severity`);
 * - a transaction that got no connection within its `maxWait`: P2028 with
 *   "Unable to start a transaction in the given time" (the other P2028s,
 *   an expired or closed transaction, are the transaction's own doing and
 *   still fail the attempt). The pool was exhausted, like P2024: in an
 *   outage, by callers waiting for connections that cannot be made.
 *
 * A bare socket error (ECONNREFUSED, ECONNRESET) is deliberately not enough:
 * the scraper's fetch of a website that refuses connections fails the same
 * way, and must fail that page, not make its queue wait. Socket codes count
 * only where they are known to be PostgreSQL's: inside Prisma's error, and
 * on the pool `poolOf` lends, which rethrows them as
 * {@link DatabaseUnavailableError} (promise queries and `connect()`; a COPY
 * stream's own error events are not wrapped).
 *
 * Prisma's and node-postgres's errors are recognised by `name`, `code` and
 * `meta`, not `instanceof`: the check lives where no generated client is
 * imported (the queues package uses it), and wrapped errors are followed
 * through `cause`. kbflow's own {@link DatabaseUnavailableError} by class.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailable(error, 0);
}

/** Prisma's codes for "the database is not there": P1001 unreachable, P1002 timed out reaching it, P1017 closed the connection, P2024 pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024']);

/** Prisma's P2028 message when `maxWait` passed before the pool gave the transaction a connection. */
const NO_CONNECTION_IN_TIME = 'Unable to start a transaction in the given time';

/** @prisma/driver-adapter-utils error kinds that mean the connection, not the query, failed. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/**
 * SQLSTATEs of a server going away or not accepting connections yet:
 * class 08 (connection exception), 57P01-57P03 (admin shutdown, crash
 * shutdown, cannot connect now: starting up or in recovery) and 53300
 * (too many connections, which frees up as other clients leave).
 */
const SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300']);

/** node-postgres's own messages for a lost or never-made connection (plain Errors without a code). */
const PG_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

function unavailable(error: unknown, depth: number): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const e = error as { name?: unknown; code?: unknown; severity?: unknown; message?: unknown; meta?: unknown; cause?: unknown; errors?: unknown };
  if (error instanceof DatabaseUnavailableError || e.name === 'PrismaClientInitializationError') return true;
  if (typeof e.code === 'string' && PRISMA_CODES.has(e.code) && String(e.name).startsWith('PrismaClient')) return true;
  if (e.code === 'P2028' && typeof e.message === 'string' && e.message.includes(NO_CONNECTION_IN_TIME)) return true;
  // node-postgres's DatabaseError: a SQLSTATE with the server's severity.
  if (typeof e.code === 'string' && typeof e.severity === 'string' && SQLSTATES.has(e.code)) return true;
  const adapter = (e.meta as { driverAdapterError?: { cause?: unknown } } | undefined)?.driverAdapterError?.cause;
  if (adapterCause(adapter)) return true;
  if (e.name === 'DriverAdapterError' && adapterCause(e.cause)) return true;
  if (typeof e.message === 'string' && PG_MESSAGES.some((m) => (e.message as string).startsWith(m))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => unavailable(inner, depth + 1))) return true;
  return unavailable(e.cause, depth + 1);
}

function adapterCause(cause: unknown): boolean {
  const c = cause as { kind?: unknown; code?: unknown } | undefined;
  if (typeof c?.kind !== 'string') return false;
  if (ADAPTER_KINDS.has(c.kind)) return true;
  return c.kind === 'postgres' && typeof c.code === 'string' && SQLSTATES.has(c.code);
}

/** Socket errors of a connection to PostgreSQL (as node-postgres passes them up, bare). */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * For a query sent on the pool directly, outside Prisma (which wraps socket
 * errors in its own, see above): a bare socket error there is PostgreSQL's
 * connection failing, so it is rethrown as a {@link DatabaseUnavailableError}.
 * Every other error passes through untouched. Found by the outage test: a
 * page status written on the pool failed with a bare `read ECONNRESET` and
 * spent the job's attempt. `poolOf` applies it to every query of the pool
 * and of the clients it lends.
 */
export function rethrowConnectionError(error: unknown): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) {
    throw new DatabaseUnavailableError(`PostgreSQL connection failed: ${(error as Error).message}`, error);
  }
  throw error;
}
