// isDatabaseUnavailable against the errors Prisma and node-postgres really
// throw: a client pointed at a closed port, a proxy that drops the
// connection mid-query, PostgreSQL terminating the client's own backend.
// And the errors it must not claim: constraint violations, bad SQL, a
// website refusing a fetch.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, startTcpProxy, type TestDatabase, type TcpProxy } from '@kbflow/testing';
import { DatabaseUnavailableError } from '../src/database-unavailable.ts';
import { createDb, isDatabaseUnavailable, poolOf, TenantRepository, type Db } from '../src/index.ts';

let database: TestDatabase;
let db: Db;
let proxy: TcpProxy;

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function errorOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  const url = new URL(database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});

afterAll(async () => {
  await db.$disconnect();
  await proxy.close();
  await database.drop();
});

describe('isDatabaseUnavailable', () => {
  it('when the server is not listening, model calls, raw queries and transactions say unavailable', async () => {
    const url = new URL(database.url);
    url.port = String(await closedPort());
    const down = createDb(url.toString());
    try {
      const model = await errorOf(() => down.task.findFirst());
      const raw = await errorOf(() => down.$queryRaw`SELECT 1`);
      const tx = await errorOf(() => down.$transaction(async (t) => t.task.count()));
      const copy = await errorOf(() => poolOf(down).query('SELECT 1'));
      expect((model as { code?: string }).code).toBe('P1001');
      expect((raw as { code?: string }).code).toBe('P2010');
      expect([model, raw, tx].map(isDatabaseUnavailable)).toEqual([true, true, true]);
      // The pool used directly gives a bare ECONNREFUSED; poolOf knows the socket is PostgreSQL's and says so.
      expect(copy).toBeInstanceOf(DatabaseUnavailableError);
      expect(((copy as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
      expect(isDatabaseUnavailable(copy)).toBe(true);
      // The same bare error anywhere else (a website refusing the scraper) is not claimed (see the module's comment).
      expect(isDatabaseUnavailable((copy as Error).cause)).toBe(false);
    } finally {
      await down.$disconnect();
    }
  });

  it('when the connection drops mid-query or the server refuses new ones, it says unavailable', async () => {
    const viaProxy = createDb(proxy.url(database.url));
    try {
      await viaProxy.$queryRaw`SELECT 1`;
      const slow = errorOf(() => viaProxy.$queryRaw`SELECT pg_sleep(5)`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await proxy.down();
      const dropped = await slow;
      const refused = await errorOf(() => viaProxy.task.count());
      expect(isDatabaseUnavailable(dropped)).toBe(true);
      expect(isDatabaseUnavailable(refused)).toBe(true);
      await proxy.up();
      await expect(viaProxy.task.count()).resolves.toBe(0);
    } finally {
      await proxy.up();
      await viaProxy.$disconnect();
    }
  });

  it('transactions whose connection dies mid-way give it back to the pool: after four outages a pool of 3 still serves twelve callers', async () => {
    // Under @prisma/adapter-pg 6.19, measured: the pool held 3 dead connections and all 12 callers waited for ever.
    const viaProxy = createDb(proxy.url(database.url), { poolSize: 3 });
    const unclassified = new Set<string>();
    let failures = 0;
    let stop = false;
    const caller = async () => {
      while (!stop) {
        try {
          await viaProxy.$transaction(async (tx) => {
            await tx.task.count();
            await tx.$queryRaw`SELECT pg_sleep(0.05)::text`;
            await tx.tenant.count();
          });
        } catch (error) {
          failures += 1;
          if (!isDatabaseUnavailable(error)) unclassified.add(String((error as Error).message).slice(0, 300));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    try {
      const callers = Array.from({ length: 12 }, caller);
      for (let round = 0; round < 4; round++) {
        await new Promise((resolve) => setTimeout(resolve, 700));
        await proxy.down();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await proxy.up();
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stop = true;
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        Promise.all(callers).then(() => 'every caller finished'),
        new Promise((resolve) => (timer = setTimeout(() => resolve('callers still waiting for a connection'), 15_000))),
      ]);
      clearTimeout(timer);
      const pool = poolOf(viaProxy);
      expect({ ended, waiting: pool.waitingCount, unclassified: [...unclassified] }).toEqual({ ended: 'every caller finished', waiting: 0, unclassified: [] });
      expect(failures).toBeGreaterThan(0);
      // The pool works again, on all of its connections at once.
      await expect(
        Promise.all(Array.from({ length: 3 }, () => viaProxy.$transaction(async (tx) => tx.$queryRaw`SELECT pg_sleep(0.2)::text`))),
      ).resolves.toHaveLength(3);
    } finally {
      stop = true;
      await proxy.up();
      await viaProxy.$disconnect();
    }
  }, 60_000);

  it('a query on the pool directly (outside Prisma), or on a client it lends, whose connection drops says unavailable, and not bare', async () => {
    const viaProxy = createDb(proxy.url(database.url));
    try {
      await poolOf(viaProxy).query('SELECT 1');
      const lent = await poolOf(viaProxy).connect();
      // A lent client also emits the drop as an event; unheard, Node would throw it.
      lent.on('error', () => undefined);
      const slow = errorOf(() => poolOf(viaProxy).query('SELECT pg_sleep(5)'));
      const slowOnClient = errorOf(() => lent.query('SELECT pg_sleep(5)'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await proxy.down();
      for (const dropped of [await slow, await slowOnClient]) {
        expect(isDatabaseUnavailable(dropped)).toBe(true);
        expect(dropped).toBeInstanceOf(DatabaseUnavailableError);
      }
      lent.release(true);
      // A constraint-like server error passes through untouched.
      await proxy.up();
      const bad = await errorOf(() => poolOf(viaProxy).query('SELECT FROM nowhere_at_all'));
      expect(isDatabaseUnavailable(bad)).toBe(false);
      expect(bad).not.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await proxy.up();
      await viaProxy.$disconnect();
    }
  });

  it('when PostgreSQL terminates the connection (57P01, as at a shutdown), it says unavailable', async () => {
    const victim = createDb(database.url, { poolSize: 1 });
    try {
      const [row] = await victim.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      const pid = row!.pid;
      // Mid-query (the pool holds one connection, so the sleep runs on that backend).
      const sleeping = errorOf(() => victim.$queryRaw`SELECT pg_sleep(5)`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await db.$queryRaw`SELECT pg_terminate_backend(${pid}::int)`;
      const error = await sleeping;
      expect(JSON.stringify((error as { meta?: unknown }).meta)).toContain('57P01');
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await victim.$disconnect();
    }
  });

  it('a transaction that got no connection within its maxWait (P2028) says unavailable; one that outlived its timeout does not', async () => {
    const small = createDb(database.url, { poolSize: 1 });
    try {
      const holder = small.$transaction(async (tx) => tx.$queryRaw`SELECT pg_sleep(1.5)::text`, { timeout: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const waited = await errorOf(() => small.$transaction(async (tx) => tx.task.count(), { maxWait: 300 }));
      await holder;
      const expired = await errorOf(() => small.$transaction(async (tx) => tx.$queryRaw`SELECT pg_sleep(1)::text`, { timeout: 300 }));
      expect([(waited as { code?: string }).code, (expired as { code?: string }).code]).toEqual(['P2028', 'P2028']);
      expect([waited, expired].map(isDatabaseUnavailable)).toEqual([true, false]);
    } finally {
      await small.$disconnect();
    }
  });

  it('a constraint violation, bad SQL or a refused website fetch is not the database being unavailable', async () => {
    const tenants = new TenantRepository(db);
    await tenants.ensureTenantWithKey('dup-test', 'dup-test-key-1234567890');
    const tenant = await db.tenant.findFirstOrThrow();
    const duplicate = await errorOf(() => db.tenant.create({ data: { id: tenant.id, name: `${tenant.name}-2` } as never }));
    const badSql = await errorOf(() => db.$queryRawUnsafe('SELECT FROM nowhere_at_all'));
    const nobody = await closedPort();
    const fetchRefused = await errorOf(() => fetch(`http://127.0.0.1:${nobody}/`));
    expect((duplicate as { code?: string }).code).toBe('P2002');
    expect([duplicate, badSql, fetchRefused].map(isDatabaseUnavailable)).toEqual([false, false, false]);
  });
});
