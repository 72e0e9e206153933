import { tracingEnabled, withSpan } from '@kbflow/observability';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { rethrowConnectionError } from './database-unavailable.ts';
import { PrismaClient } from './generated/client.ts';

export type Db = PrismaClient;

/**
 * Limits for interactive transactions. Prisma's defaults (2 s to get a
 * connection, 5 s to finish) failed jobs on a loaded two-core machine while
 * eight scrape jobs queued for one crawl's task-row lock; the work then
 * retried and succeeded. These bounds still end a stuck transaction.
 */
export const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

/**
 * How long a caller waits for one of the pool's connections before the pool
 * gives up with "timeout exceeded when trying to connect" (which
 * isDatabaseUnavailable counts as the database being away). pg's default is
 * to wait for ever, and Prisma's `maxWait` does not reach the pool. Above
 * TRANSACTION_OPTIONS.maxWait, so a busy pool on a loaded machine is not
 * mistaken for an outage.
 */
const POOL_CONNECT_TIMEOUT_MS = 20_000;

/**
 * The Prisma client over node-postgres (Prisma's JS engine: no native binary).
 * `poolSize` bounds this process's connections; PostgreSQL's default of 100
 * is shared by every replica of every service.
 */
export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.poolSize ?? 5, connectionTimeoutMillis: POOL_CONNECT_TIMEOUT_MS });
  // The pool is ours, so Prisma is told to end it on $disconnect.
  const plain = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  const client = tracingEnabled() ? traced(plain) : plain;
  guarded.set(client, guardQueries(pool));
  return client;
}

/**
 * A span per Prisma operation (`prisma Task.update`, `prisma $queryRaw`),
 * through a query extension: Prisma's public API, covering every model
 * operation and raw query of every repository, inside transactions too.
 * Chosen over the alternatives: Prisma's own tracing (@prisma/instrumentation)
 * is another package that must move in lockstep with the Prisma version,
 * untried here with the JS query compiler (engineType "client") this project
 * runs; @opentelemetry/instrumentation-pg
 * patches `pg` through a require hook that has to be installed before `pg`
 * is first imported, which the services' ES-module entry points do
 * statically, before the environment (and so the endpoint) is read. What
 * this misses: the COPY streams of bulk uploads, which use the pool directly.
 * The extended client has the same methods the repositories use (not
 * `$on`/`$use`, which nothing calls), hence the cast.
 */
function traced(client: PrismaClient): PrismaClient {
  return client.$extends({
    query: {
      $allOperations: ({ model, operation, args, query }) =>
        withSpan(
          model ? `prisma ${model}.${operation}` : `prisma ${operation}`,
          { kind: 'client', attributes: { 'db.system.name': 'postgresql', 'db.operation.name': operation, 'db.collection.name': model } },
          () => query(args),
        ),
    },
  }) as unknown as PrismaClient;
}

/**
 * The node-postgres pool under a client made by {@link createDb}: for what
 * Prisma cannot do, COPY above all (bulk writes), and for the hot paths where
 * a Prisma call costs more CPU than the query. Its connections are the
 * client's, so the pool size bounds both.
 *
 * What it returns is the pool seen through {@link guardQueries}: a socket
 * error of any query on it, or on a client it lends, says the database is
 * unavailable (DatabaseUnavailableError), as Prisma's own errors do. Prisma
 * itself keeps the bare pool, so its error mapping is untouched.
 */
export function poolOf(db: Db): pg.Pool {
  const pool = guarded.get(db);
  if (!pool) throw new Error('this Prisma client was not made by createDb: no pool to borrow');
  return pool;
}

const guarded = new WeakMap<Db, pg.Pool>();

/**
 * A view of a pool or client whose promise-returning `query` rethrows
 * connection errors through {@link rethrowConnectionError}, and whose
 * `connect()` does too and lends clients seen the same way. Written by hand: pg has no
 * hook for its errors, and a Proxy keeps every other member (events, `end`,
 * `release`, a COPY's stream-returning `query`) the pool's own.
 */
function guardQueries<T extends pg.Pool | pg.PoolClient>(target: T): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (property === 'query') {
        return (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
          return result instanceof Promise ? result.catch(rethrowConnectionError) : result;
        };
      }
      if (property === 'connect' && object instanceof pg.Pool) {
        return async () => guardQueries(await object.connect().catch(rethrowConnectionError));
      }
      return (value as (...a: unknown[]) => unknown).bind(object);
    },
  });
}
