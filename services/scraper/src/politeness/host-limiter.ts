import { randomUUID } from 'node:crypto';
import type { Redis } from '@kbflow/queues';

/**
 * Why a script of our own rather than a library: rate-limiter-flexible
 * counts points per window (no in-flight count, no lease released on
 * completion), and bottleneck's Redis mode (unreleased since 2019) queues
 * and runs the work itself in the process that holds it, where kbflow's
 * pages must wait in BullMQ (delayed, attempts intact) so no replica holds
 * them. The three per-host rules fit one short Lua script, atomic in Redis
 * and on Redis's clock (TIME), so replicas with skewed clocks agree.
 *
 * KEYS[1] the host's leases (sorted set: token → expiry ms)
 * KEYS[2] the host's state (hash: next = earliest next start, backoff = until)
 * ARGV: token, maxConcurrency, delayMs, leaseMs
 * Returns {1, 0, 'ok'} or {0, waitMs, reason}; a busy host's wait is 0 (a slot
 * frees when some fetch ends, which no one here knows: the caller polls).
 */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** The host's three rules: returns early when the host may not be asked now. */
const HOST_CHECK = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local backoff = tonumber(redis.call('HGET', KEYS[2], 'backoff') or '0')
if backoff > now then return {0, backoff - now, 'host-backoff'} end
local nextAt = tonumber(redis.call('HGET', KEYS[2], 'next') or '0')
if nextAt > now then return {0, nextAt - now, 'host-delay'} end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0, 0, 'host-busy'} end
`;

const HOST_TAKE = `
local delay = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
if delay > 0 then
  redis.call('HSET', KEYS[2], 'next', now + delay)
  if redis.call('PTTL', KEYS[2]) < delay + 60000 then redis.call('PEXPIRE', KEYS[2], delay + 60000) end
end
`;

const ACQUIRE = `${NOW}${HOST_CHECK}${HOST_TAKE}
return {1, 0, 'ok'}
`;

/**
 * ACQUIRE and the tenant's share of the scrapers in one step (one round
 * trip a page instead of two): KEYS[3] the tenant's leases (the sorted set
 * @kbflow/queues' TenantSlots keeps), ARGV[5] its maxConcurrentProcessing.
 * A tenant at its limit answers {0, 0, 'tenant-limit'} and takes nothing.
 * Every key is under the queue prefix's hash tag, so the script stays in
 * one Redis Cluster slot.
 */
const ACQUIRE_WITH_TENANT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return {0, 0, 'tenant-limit'} end
${HOST_CHECK}${HOST_TAKE}
redis.call('ZADD', KEYS[3], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[3]) < lease then redis.call('PEXPIRE', KEYS[3], lease) end
return {1, 0, 'ok'}
`;

/**
 * KEYS as above; ARGV: token, delayMs. Frees the lease, and starts the delay
 * again from now, so the gap a site sees between one response and the next
 * request is at least the delay however long the fetch took.
 */
const HOST_RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local delay = tonumber(ARGV[2])
if delay > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local nextAt = tonumber(redis.call('HGET', KEYS[2], 'next') or '0')
  if now + delay > nextAt then redis.call('HSET', KEYS[2], 'next', now + delay) end
  if redis.call('PTTL', KEYS[2]) < delay + 60000 then redis.call('PEXPIRE', KEYS[2], delay + 60000) end
end
`;

const RELEASE = `${HOST_RELEASE}
return 1
`;

/** RELEASE and the tenant's lease (KEYS[3]) at once. */
const RELEASE_WITH_TENANT = `${HOST_RELEASE}
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

/** KEYS as above; ARGV: token, leaseMs. Extends a lease still held (a long fetch), never revives an expired one. */
const RENEW = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 1
`;

/** KEYS as above; ARGV: ms. Holds the host back until now + ms (never shortens a longer backoff). */
const BACKOFF = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
local untilAt = tonumber(redis.call('HGET', KEYS[2], 'backoff') or '0')
if now + ms > untilAt then
  untilAt = now + ms
  redis.call('HSET', KEYS[2], 'backoff', untilAt)
end
if redis.call('PTTL', KEYS[2]) < untilAt - now + 60000 then redis.call('PEXPIRE', KEYS[2], untilAt - now + 60000) end
return untilAt - now
`;

type Scripts = Redis & {
  kbflowHostAcquire(leases: string, state: string, token: string, max: number, delayMs: number, leaseMs: number): Promise<[number, number, string]>;
  kbflowHostTenantAcquire(
    leases: string,
    state: string,
    tenantLeases: string,
    token: string,
    max: number,
    delayMs: number,
    leaseMs: number,
    tenantMax: number,
  ): Promise<[number, number, string]>;
  kbflowHostRelease(leases: string, state: string, token: string, delayMs: number): Promise<number>;
  kbflowHostTenantRelease(leases: string, state: string, tenantLeases: string, token: string, delayMs: number): Promise<number>;
  kbflowTenantLeaseRenew(tenantLeases: string, token: string, leaseMs: number): Promise<number>;
  kbflowHostBackoff(leases: string, state: string, ms: number): Promise<number>;
  kbflowHostRenew(leases: string, state: string, token: string, leaseMs: number): Promise<number>;
};

export interface HostLimits {
  /** Requests in flight to the host at once. */
  maxConcurrency: number;
  /** Least time between two requests to the host. */
  minDelayMs: number;
}

/** The tenant's share of the scrapers, taken with the host's slot: the sorted set of its leases and its limit (TenantSlots.shareOf). */
export interface TenantShare {
  key: string;
  max: number;
}

/** A share of the tenant's still held after the host's slot went back; release it when the job's work ends (idempotent). */
export interface HeldShare {
  release: () => Promise<void>;
}

export type HostSlot =
  | {
      granted: true;
      /** Gives back the host's slot and the tenant's share (when one was taken) in one round trip. */
      release: () => Promise<void>;
      /** Gives back the host's slot only: the tenant's share stays held until the returned release (none taken: a no-op). */
      releaseHost: () => Promise<HeldShare>;
    }
  | { granted: false; waitMs: number; reason: 'host-backoff' | 'host-delay' | 'host-busy' | 'tenant-limit' };

/**
 * Per-host politeness shared by every scraper replica: at most
 * `maxConcurrency` requests in flight, `minDelayMs` between them, and a
 * back-off (a 429/503's Retry-After) that holds the host. A slot is a lease
 * of `leaseMs`, renewed every third of that while its fetch runs, so a
 * scraper killed mid-fetch frees the host's slot within `leaseMs`.
 */
export class HostLimiter {
  private readonly redis: Scripts;
  private readonly prefix: string;
  private readonly leaseMs: number;

  constructor(redis: Redis, prefix: string, opts: { leaseMs: number }) {
    this.redis = redis as Scripts;
    this.prefix = prefix;
    this.leaseMs = opts.leaseMs;
    // defineCommand is idempotent per name: a second limiter on one client reuses it.
    if (typeof this.redis.kbflowHostAcquire !== 'function') {
      redis.defineCommand('kbflowHostAcquire', { numberOfKeys: 2, lua: ACQUIRE });
      redis.defineCommand('kbflowHostRelease', { numberOfKeys: 2, lua: RELEASE });
      redis.defineCommand('kbflowHostBackoff', { numberOfKeys: 2, lua: BACKOFF });
      redis.defineCommand('kbflowHostRenew', { numberOfKeys: 2, lua: RENEW });
      redis.defineCommand('kbflowHostTenantAcquire', { numberOfKeys: 3, lua: ACQUIRE_WITH_TENANT });
      redis.defineCommand('kbflowHostTenantRelease', { numberOfKeys: 3, lua: RELEASE_WITH_TENANT });
      // RENEW touches only KEYS[1]: the same script renews a tenant's lease.
      redis.defineCommand('kbflowTenantLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    }
  }

  /** `{…}` hash-tags keep a host's two keys in one Redis Cluster slot. */
  private keys(host: string): [string, string] {
    return [`${this.prefix}:host:{${host}}:leases`, `${this.prefix}:host:{${host}}:state`];
  }

  /**
   * Takes a slot for one request to `host`, with the tenant's share of the
   * scrapers when `tenant` is given (both or neither), or says how long to
   * wait and why.
   */
  async acquire(host: string, limits: HostLimits, tenant?: TenantShare): Promise<HostSlot> {
    const [leases, state] = this.keys(host);
    const token = randomUUID();
    const [ok, waitMs, reason] = tenant
      ? await this.redis.kbflowHostTenantAcquire(leases, state, tenant.key, token, limits.maxConcurrency, limits.minDelayMs, this.leaseMs, tenant.max)
      : await this.redis.kbflowHostAcquire(leases, state, token, limits.maxConcurrency, limits.minDelayMs, this.leaseMs);
    if (ok !== 1)
      return { granted: false, waitMs: Math.max(0, Number(waitMs)), reason: reason as 'host-backoff' | 'host-delay' | 'host-busy' | 'tenant-limit' };
    let hostHeld = true;
    let tenantHeld = tenant !== undefined;
    const renewal = setInterval(() => {
      // A failed renewal only risks one extra request to the host (or job of the tenant) later; the fetch goes on.
      if (hostHeld) this.redis.kbflowHostRenew(leases, state, token, this.leaseMs).catch(() => undefined);
      if (tenantHeld && tenant) this.redis.kbflowTenantLeaseRenew(tenant.key, token, this.leaseMs).catch(() => undefined);
    }, this.leaseMs / 3);
    renewal.unref();
    const releaseTenant = async () => {
      if (!tenantHeld || !tenant) return;
      tenantHeld = false;
      clearInterval(renewal);
      await this.redis.zrem(tenant.key, token);
    };
    return {
      granted: true,
      release: async () => {
        if (!hostHeld) return releaseTenant();
        hostHeld = false;
        const both = tenantHeld && tenant !== undefined;
        tenantHeld = false;
        clearInterval(renewal);
        if (both) await this.redis.kbflowHostTenantRelease(leases, state, tenant.key, token, limits.minDelayMs);
        else await this.redis.kbflowHostRelease(leases, state, token, limits.minDelayMs);
      },
      releaseHost: async () => {
        if (hostHeld) {
          hostHeld = false;
          if (!tenantHeld) clearInterval(renewal);
          await this.redis.kbflowHostRelease(leases, state, token, limits.minDelayMs);
        }
        return { release: releaseTenant };
      },
    };
  }

  /** Holds every request to `host` back for `ms`; returns how long the host is now held. */
  async backoff(host: string, ms: number): Promise<number> {
    const [leases, state] = this.keys(host);
    return this.redis.kbflowHostBackoff(leases, state, Math.max(1, Math.round(ms)));
  }
}
