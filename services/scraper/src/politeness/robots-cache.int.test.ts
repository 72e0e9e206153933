// RobotsCache on real Redis: one read of robots.txt serves every page of
// every replica until it expires, and a process keeps what it read for a few
// seconds so a page costs no Redis round trip or re-parse.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedis, type Redis } from '@kbflow/queues';
import { testRedisUrl, uniquePrefix } from '@kbflow/testing';
import { pino } from 'pino';
import { RobotsCache, type FetchResource } from './robots-cache.ts';

const log = pino({ level: 'silent' });
let redis: Redis;

beforeAll(() => {
  redis = createRedis(testRedisUrl());
});

afterAll(async () => {
  await redis.quit();
});

/** A site whose robots.txt is `body`, or unreachable while `body` is an Error; records each request. */
function site(initial: string | Error) {
  const state = { body: initial, asked: 0 };
  const fetchResource: FetchResource = async (url) => {
    state.asked += 1;
    if (state.body instanceof Error) throw state.body;
    return { status: 200, finalUrl: url, contentType: 'text/plain', body: Buffer.from(state.body) };
  };
  return { state, fetchResource };
}

const cacheOf = (prefix: string, fetchResource: FetchResource) => new RobotsCache({ redis, prefix, fetchResource, userAgent: 'kbflow', ttlMs: 3_600_000, log });

describe('RobotsCache', () => {
  it('reads robots.txt once for every replica, and a replica keeps its rules without asking Redis again', async () => {
    const prefix = uniquePrefix('robots');
    const origin = 'https://docs.example';
    const { state, fetchResource } = site('User-agent: *\nDisallow: /private/\n');
    const first = cacheOf(prefix, fetchResource);
    const other = cacheOf(prefix, fetchResource);
    expect((await first.rulesFor(origin)).isAllowed(`${origin}/private/x.html`)).toBe(false);
    // Another replica reads the shared entry: no second request to the site.
    expect((await other.rulesFor(origin)).isAllowed(`${origin}/guide.html`)).toBe(true);
    expect(state.asked).toBe(1);
    // With the shared entry gone, the replicas still answer from what they read (and nothing is fetched).
    await redis.del(`${prefix}:robots:${origin}`);
    expect((await first.rulesFor(origin)).isAllowed(`${origin}/private/x.html`)).toBe(false);
    expect((await other.rulesFor(origin)).isAllowed(`${origin}/private/x.html`)).toBe(false);
    expect(state.asked).toBe(1);
    // A new process has no memory of it and reads the file again.
    state.body = 'User-agent: *\nDisallow:\n';
    expect((await cacheOf(prefix, fetchResource).rulesFor(origin)).isAllowed(`${origin}/private/x.html`)).toBe(true);
    expect(state.asked).toBe(2);
  });

  it('does not keep an unreachable robots.txt in memory: the next page asks the shared cache again', async () => {
    const prefix = uniquePrefix('robots');
    const origin = 'https://down.example';
    const { state, fetchResource } = site(new Error('connect ECONNREFUSED'));
    const cache = cacheOf(prefix, fetchResource);
    expect((await cache.rulesFor(origin)).file.kind).toBe('unreachable');
    // The site is back and the shared entry expired (deleted here): the same process reads the file.
    state.body = 'User-agent: *\nDisallow:\n';
    await redis.del(`${prefix}:robots:${origin}`);
    expect((await cache.rulesFor(origin)).file.kind).toBe('rules');
    expect(state.asked).toBe(2);
  });
});
