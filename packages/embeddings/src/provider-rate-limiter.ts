import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ProviderError } from './provider-error.ts';

/** The provider's limits per window, as its account states them (RPM and TPM: a 60 s window). */
export interface ProviderLimits {
  requests: number;
  tokens: number;
  windowMs: number;
}

/**
 * A wait this short is slept inside the call; a longer one goes back to the
 * queue (it rate-limits its queue, no attempt spent). Sleeping holds the
 * job's slot, which is free to hold: while the provider has no room no other
 * job of this queue could use it, and BullMQ keeps renewing the lock. Handing
 * short waits back to the queue instead left whole windows unused (measured:
 * 65-80 % of the limit against 95 % here), as the queue's rate limit and the
 * jobs' trips back through it outlast the moment the provider has room again.
 */
const MAX_INLINE_WAIT_MS = 5_000;
/** How long the shared rate is trusted before it is read from Redis again. */
const RATE_CACHE_MS = 1_000;
/** The shared rate never falls below this share of the configured limits. */
const MIN_RATE = 0.1;
/** Each 429 multiplies the shared rate by this. */
const DECREASE = 0.5;
/** Each window that passes with work waiting gives back this share of the configured limits (additive increase). */
const INCREASE_PER_WINDOW = 0.25;
/**
 * Entries are kept this much longer than the window: the provider stamps a
 * request when it arrives, a little after this limiter admitted it, so a
 * window that is exactly the provider's would free a slot a few
 * milliseconds early and meet a 429.
 */
const margin = (windowMs: number) => Math.max(50, Math.ceil(windowMs * 0.02));

/**
 * One request of `tokens` against two sliding windows at once, atomically:
 * at most `maxRequests` requests and `maxTokens` tokens in any `windowMs`.
 * Returns 0 when admitted (and records it), else the milliseconds until it
 * would be. Written by hand: no maintained library offers a Redis limiter
 * over a rolling window in two dimensions at once (rate-limiter-flexible's
 * Redis limiters are fixed windows, one dimension each, which lets through
 * twice the limit across a window boundary: the 429s this exists to avoid).
 *
 * KEYS[1] a sorted set of admitted requests (score = time, member =
 * "tokens:id"), KEYS[2] the sum of their tokens. Expired entries are removed
 * (and their tokens subtracted) as they age out, so each call does work in
 * proportion to what expired, bounded by maxRequests.
 */
/** The client with {@link ACQUIRE_SCRIPT} defined on it. */
type AcquireScript = Redis & {
  kbflowProviderAcquire(
    log: string,
    tokens: string,
    now: number,
    windowMs: number,
    maxRequests: number,
    maxTokens: number,
    cost: number,
    member: string,
  ): Promise<unknown>;
};

const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxRequests = tonumber(ARGV[3])
local maxTokens = tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local member = ARGV[6]
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)
if #expired > 0 then
  local freed = 0
  for _, m in ipairs(expired) do freed = freed + tonumber(string.match(m, '^(%d+):')) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  redis.call('DECRBY', KEYS[2], freed)
end
local count = redis.call('ZCARD', KEYS[1])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local wait = 0
if count + 1 > maxRequests then
  local oldest = redis.call('ZRANGE', KEYS[1], count - maxRequests, count - maxRequests, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + window - now)
end
if used + tokens > maxTokens then
  local need = used + tokens - maxTokens
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local freed = 0
  for i = 1, #entries, 2 do
    freed = freed + tonumber(string.match(entries[i], '^(%d+):'))
    if freed >= need then
      wait = math.max(wait, tonumber(entries[i + 1]) + window - now)
      break
    end
  end
end
if wait > 0 then return math.max(1, math.ceil(wait)) end
redis.call('ZADD', KEYS[1], now, member)
redis.call('INCRBY', KEYS[2], tokens)
redis.call('PEXPIRE', KEYS[1], window * 2)
redis.call('PEXPIRE', KEYS[2], window * 2)
return 0
`;

/**
 * The provider's rate limits, shared by every process that calls it (issue
 * 12 item 6): each embedder and aggregator replica asks this limiter, whose
 * windows live in Redis, before each request, so three replicas together
 * stay under the account's RPM and TPM instead of each meeting it alone.
 *
 * Adaptive, as the seed asks: the limits in force are the configured ones
 * times a shared rate (1 at start). A 429 from the provider halves it
 * (multiplicative decrease, never below 10 %) and holds every caller back
 * for its Retry-After; `x-ratelimit-remaining-*: 0` holds them until
 * `x-ratelimit-reset-*`. While work is waiting (the queue's depth, when
 * given), every window that passes gives back a quarter of the limits
 * (additive increase); with nothing waiting the rate stays where it is,
 * since there is nothing to probe with. `kbflow_provider_rate` shows it.
 *
 * A wait under a second is slept here; a longer one is thrown as a
 * retryable `provider_rate_limited` ProviderError with its `retryAfterMs`,
 * which the worker turns into a rate limit of its queue: the job waits
 * without spending an attempt, and so does the queue.
 */
export class ProviderRateLimiter {
  readonly #redis: Redis;
  readonly #keys: { log: string; tokens: string; rate: string; blocked: string };
  readonly #limits: ProviderLimits;
  readonly #demand: (() => Promise<number>) | undefined;
  /** The shared rate as last read: `rate` at time `at`, recovering from there (see #effective). */
  #rate = { rate: 1, at: 0, readAt: 0 };
  readonly #rateGauge: Gauge | undefined;
  readonly #throttled: Counter | undefined;
  readonly #name: string;

  constructor(opts: { redis: Redis; prefix: string; name: 'embedding' | 'chat'; limits: ProviderLimits; registry?: Registry; demand?: () => Promise<number> }) {
    this.#redis = opts.redis;
    // EVALSHA through ioredis's defineCommand (per client: a second limiter on one client reuses it), not the script's text on every call.
    if (typeof (opts.redis as AcquireScript).kbflowProviderAcquire !== 'function') {
      opts.redis.defineCommand('kbflowProviderAcquire', { numberOfKeys: 2, lua: ACQUIRE_SCRIPT });
    }
    this.#name = opts.name;
    const base = `${opts.prefix}:provider-limit:{${opts.name}}`;
    this.#keys = { log: `${base}:log`, tokens: `${base}:tokens`, rate: `${base}:rate`, blocked: `${base}:blocked-until` };
    this.#limits = opts.limits;
    this.#demand = opts.demand;
    if (opts.registry) {
      this.#rateGauge =
        (opts.registry.getSingleMetric('kbflow_provider_rate') as Gauge | undefined) ??
        new Gauge({
          name: 'kbflow_provider_rate',
          help: "Share (0-1] of the provider's configured RPM and TPM in force, shared by every replica (halved by a 429, recovered additively)",
          labelNames: ['provider'],
          registers: [opts.registry],
        });
      this.#throttled =
        (opts.registry.getSingleMetric('kbflow_provider_throttled_total') as Counter | undefined) ??
        new Counter({
          name: 'kbflow_provider_throttled_total',
          help: 'Provider calls held back by the shared rate limiter, by where they waited (inline or queue)',
          labelNames: ['provider', 'wait'],
          registers: [opts.registry],
        });
      this.#rateGauge.set({ provider: opts.name }, 1);
    }
  }

  /** The most tokens one request may carry: a request over the window's token limit could never be admitted. */
  get maxRequestTokens(): number {
    return Math.max(1, Math.floor(this.#limits.tokens * MIN_RATE));
  }

  /** The rate in force at `now`: the stored one plus what the windows since have given back. */
  #effective(now: number): number {
    const { rate, at } = this.#rate;
    return Math.min(1, rate + (INCREASE_PER_WINDOW * Math.max(0, now - at)) / this.#limits.windowMs);
  }

  async #currentRate(): Promise<number> {
    const now = Date.now();
    if (now - this.#rate.readAt >= RATE_CACHE_MS) {
      const [rate, at] = await this.#redis.hmget(this.#keys.rate, 'rate', 'at');
      const r = Number(rate);
      this.#rate = { rate: rate !== null && Number.isFinite(r) ? Math.min(1, Math.max(MIN_RATE, r)) : 1, at: Number(at) || 0, readAt: now };
    }
    const value = this.#effective(now);
    this.#rateGauge?.set({ provider: this.#name }, value);
    return value;
  }

  async #storeRate(rate: number, at: number): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.#keys.rate, 'rate', String(rate), 'at', String(at))
      .pexpire(this.#keys.rate, this.#limits.windowMs * 60)
      .exec();
    this.#rate = { rate, at, readAt: Date.now() };
    this.#rateGauge?.set({ provider: this.#name }, rate);
  }

  /**
   * Waits for room for one request of `tokens` (estimated) or throws the
   * wait back to the queue. Returns the request's entry, for {@link settle}.
   */
  async acquire(tokens: number): Promise<string> {
    const cost = Math.max(1, Math.ceil(tokens));
    const member = `${cost}:${randomUUID()}`;
    for (;;) {
      const blockedUntil = Number(await this.#redis.get(this.#keys.blocked));
      let waitMs = Number.isFinite(blockedUntil) ? blockedUntil - Date.now() : 0;
      if (waitMs <= 0) {
        const rate = await this.#currentRate();
        const maxRequests = Math.max(1, Math.floor(this.#limits.requests * rate));
        const maxTokens = Math.max(cost, Math.floor(this.#limits.tokens * rate));
        const windowMs = this.#limits.windowMs + margin(this.#limits.windowMs);
        waitMs = Number(
          await (this.#redis as AcquireScript).kbflowProviderAcquire(
            this.#keys.log,
            this.#keys.tokens,
            Date.now(),
            windowMs,
            maxRequests,
            maxTokens,
            cost,
            member,
          ),
        );
        if (waitMs <= 0) return member;
      }
      if (waitMs > MAX_INLINE_WAIT_MS) {
        this.#throttled?.inc({ provider: this.#name, wait: 'queue' });
        throw new ProviderError('provider_rate_limited', `${this.#name} provider: the shared rate limit is reached; waiting ${waitMs} ms`, {
          retryable: true,
          status: 429,
          retryAfterMs: waitMs,
        });
      }
      this.#throttled?.inc({ provider: this.#name, wait: 'inline' });
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /**
   * The request's answer came back: its entry is re-stamped with this time.
   * The provider counts a request from when it arrived, which is after it
   * was admitted here and before its answer, so counting it from the answer
   * never frees its place before the provider does, however long the
   * request took to leave a busy process. Only ever moves an entry later.
   */
  async settle(member: string): Promise<void> {
    await this.#redis.zadd(this.#keys.log, 'XX', 'GT', Date.now(), member);
  }

  /** A 429 from the provider: every caller backs off for `retryAfterMs` (a window when absent) and the shared rate halves. */
  async rateLimited(retryAfterMs: number | undefined): Promise<void> {
    const until = Date.now() + (retryAfterMs ?? this.#limits.windowMs);
    await this.#redis.set(this.#keys.blocked, String(until), 'PX', Math.max(1, until - Date.now()));
    // Re-read, so that two replicas meeting the same 429 at once halve it about once, not twice.
    this.#rate.readAt = 0;
    const rate = await this.#currentRate();
    await this.#storeRate(Math.max(MIN_RATE, rate * DECREASE), Date.now());
  }

  /** A successful response's headers: `x-ratelimit-remaining-*: 0` holds every caller until the reset they name. */
  noteHeaders(headers: Headers): void {
    const holdMs = exhaustedFor(headers);
    if (holdMs === undefined) return;
    // Best effort: a lost hold only means the next request may meet a 429, which is handled.
    this.#redis.set(this.#keys.blocked, String(Date.now() + holdMs), 'PX', Math.max(1, holdMs)).catch(() => undefined);
  }

  /**
   * After a successful call. The rate recovers with time (a quarter of the
   * limits per window); the queue's depth decides whether that time counts:
   * with nothing waiting there is nothing to probe the provider with, so the
   * rate is held where it is instead of creeping back to the limit unseen.
   */
  async succeeded(): Promise<void> {
    const rate = await this.#currentRate();
    if (rate >= 1 || !this.#demand) return;
    if ((await this.#demand()) === 0) await this.#storeRate(rate, Date.now());
  }
}

/**
 * How long to hold back when the provider says a limit is spent:
 * `x-ratelimit-remaining-requests` or `-tokens` at 0 with its
 * `x-ratelimit-reset-*` (OpenAI's `1s`, `6m0s`, `20ms` form). Undefined
 * when neither is spent or the headers are absent.
 */
export function exhaustedFor(headers: Headers | undefined): number | undefined {
  let hold: number | undefined;
  for (const kind of ['requests', 'tokens']) {
    if (headers?.get(`x-ratelimit-remaining-${kind}`)?.trim() !== '0') continue;
    const reset = parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`));
    if (reset !== undefined) hold = Math.max(hold ?? 0, reset);
  }
  return hold;
}

/** `1h2m3.5s`, `6m0s`, `20ms`, or plain seconds, in ms; undefined when unreadable. A fixed, anchored pattern: linear in its input. */
export function parseResetDuration(value: string | null | undefined): number | undefined {
  const text = value?.trim();
  if (!text || text.length > 32) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(text);
  if (!match || match[0] === '') return undefined;
  const [, h, m, s, ms] = match;
  return Math.ceil(Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0));
}

/** The provider account's limits (a service's env.ts maps its variables to these); a limit not set never binds. */
export interface ProviderLimitOptions {
  /** Without a provider key there is no provider to limit. */
  apiKey?: string | undefined;
  embedding: { requestsPerWindow?: number | undefined; tokensPerWindow?: number | undefined };
  chat: { requestsPerWindow?: number | undefined; tokensPerWindow?: number | undefined };
  windowMs: number;
}

/** A limit that is not set never binds. */
const UNLIMITED = 1e12;

/** The shared limiter for `name`'s calls, or undefined without a provider key or without limits. */
export function providerLimiter(
  opts: ProviderLimitOptions,
  name: 'embedding' | 'chat',
  deps: { redis: Redis; prefix: string; registry?: Registry; demand?: () => Promise<number> },
): ProviderRateLimiter | undefined {
  if (!opts.apiKey?.trim()) return undefined;
  const { requestsPerWindow: requests, tokensPerWindow: tokens } = opts[name];
  if (requests === undefined && tokens === undefined) return undefined;
  return new ProviderRateLimiter({
    ...deps,
    name,
    limits: { requests: requests ?? UNLIMITED, tokens: tokens ?? UNLIMITED, windowMs: opts.windowMs },
  });
}
