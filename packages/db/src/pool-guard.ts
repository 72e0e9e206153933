import type pg from 'pg';

/**
 * How long a caller waits for one of the pool's connections before the
 * pool gives up with "timeout exceeded when trying to connect" (which
 * {@link isDatabaseUnavailable} counts as the database being away). pg's
 * default is to wait for ever, and Prisma's `maxWait` does not reach the
 * pool through @prisma/adapter-pg: measured, 12 transactions waited
 * unbounded behind 3 dead connections. Above TRANSACTION_OPTIONS.maxWait, so
 * a busy pool on a loaded machine is not mistaken for an outage.
 */
export const POOL_CONNECT_TIMEOUT_MS = 20_000;

/**
 * Gives the pool back the connections that died while checked out.
 *
 * @prisma/adapter-pg 6.19 releases a transaction's connection only after
 * Prisma's ROLLBACK (or COMMIT) succeeded on it; when the connection itself
 * died mid-transaction (PostgreSQL restarted, the network dropped), that
 * statement fails and `release()` is never called. The dead client then
 * counts against `max` for ever: measured through a TCP proxy taken down
 * four times, a pool of 3 held 3 dead clients with 12 callers waiting, and
 * `$disconnect()` waited for them too. No maintained library wraps this (it
 * is a gap between the adapter and pg-pool, open upstream), so the guard
 * is written here: on each checkout it watches the client's connection,
 * and if it ends before the client came back, releases it with an error
 * (pg-pool then destroys it and opens a new one on demand). A later
 * release by the adapter is a no-op, not pg-pool's "release called twice"
 * error, so the caller still sees the real connection error.
 */
export function guardPool(pool: pg.Pool): pg.Pool {
  /** The clients checked out now, each with the listener on its connection's end. */
  const out = new Map<pg.PoolClient, () => void>();
  pool.on('acquire', (client) => {
    const onEnd = () => {
      // After the current tick: a release already on its way is not preempted.
      setImmediate(() => {
        if (!out.has(client)) return;
        const release = client.release;
        client.release = () => undefined;
        release(new Error('connection ended while checked out'));
      });
    };
    out.set(client, onEnd);
    client.once('end', onEnd);
  });
  // pg-pool emits 'release' with the client (and sets `release` anew on the
  // next checkout), so each watch ends with its checkout.
  pool.on('release', (_err: Error | undefined, client: pg.PoolClient) => {
    const onEnd = out.get(client);
    if (!onEnd) return;
    out.delete(client);
    client.removeListener('end', onEnd);
  });
  return pool;
}
