import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A concurrency limit shared by every replica: at most `max` leases per key
 * at once, each a member of the key's sorted set scored by its expiry, so a
 * process killed while holding one frees it within `leaseMs` (the holder
 * renews every third of that while it works). The same design as the
 * scraper's per-host limiter (services/scraper/src/politeness/host-limiter.ts),
 * which keeps a script of its own because it also spaces requests and holds
 * a backed-off host in the same atomic step. On Redis's clock (TIME), so
 * replicas with skewed clocks agree.
 *
 * Why not a library: rate-limiter-flexible counts points per window (no
 * in-flight count released on completion), and bottleneck's Redis mode
 * runs the work itself in the process that holds it, where kbflow's jobs
 * must wait in BullMQ (delayed, attempts intact).
 *
 * KEYS[1] the leases; ARGV: token, max, leaseMs. Returns 1 (granted) or 0.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3])) end
return 1
`;

/** KEYS[1] the leases; ARGV: token, leaseMs. Extends a lease still held, never revives an expired one. */
const RENEW = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 1
`;

type Scripts = Redis & {
  kbflowLeaseAcquire(key: string, token: string, max: number, leaseMs: number): Promise<number>;
  kbflowLeaseRenew(key: string, token: string, leaseMs: number): Promise<number>;
};

/** A granted lease: release it when the work ends (idempotent). */
export interface Lease {
  release(): Promise<void>;
}

/** Leases of a concurrency limit per key, in Redis (see the script above). */
export class LeaseLimiter {
  private readonly redis: Scripts;
  private readonly leaseMs: number;

  constructor(redis: Redis, opts: { leaseMs: number }) {
    this.redis = redis as Scripts;
    this.leaseMs = opts.leaseMs;
    // defineCommand is per client: a second limiter on one client reuses it.
    if (typeof this.redis.kbflowLeaseAcquire !== 'function') {
      redis.defineCommand('kbflowLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE });
      redis.defineCommand('kbflowLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    }
  }

  /** A lease of `key` when fewer than `max` are held, else undefined. */
  async acquire(key: string, max: number): Promise<Lease | undefined> {
    if (max <= 0) return undefined;
    const token = randomUUID();
    if ((await this.redis.kbflowLeaseAcquire(key, token, max, this.leaseMs)) !== 1) return undefined;
    let released = false;
    const renewal = setInterval(() => {
      // A failed renewal only risks one extra holder later; the work goes on.
      this.redis.kbflowLeaseRenew(key, token, this.leaseMs).catch(() => undefined);
    }, this.leaseMs / 3);
    renewal.unref();
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        await this.redis.zrem(key, token);
      },
    };
  }

  /** Leases of `key` held now (expired ones not counted). */
  async held(key: string): Promise<number> {
    return this.redis.zcount(key, Date.now(), '+inf');
  }
}
