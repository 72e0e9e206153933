// isDatabaseUnavailable against the errors Prisma and node-postgres really
// throw: a client pointed at a closed port, a proxy that drops the
// connection mid-query, PostgreSQL terminating the client's own backend.
// And the errors it must not claim: constraint violations, bad SQL, a
// website refusing a fetch.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, startTcpProxy, type TestDatabase, type TcpProxy } from '@kbflow/testing';
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
      // The pool used directly gives a bare ECONNREFUSED, which a website gives too: not claimed (see the module's comment).
      expect((copy as { code?: string }).code).toBe('ECONNREFUSED');
      expect(isDatabaseUnavailable(copy)).toBe(false);
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
