import type { EffectiveLimits, Principal } from '@kbflow/db';
import type { Redis } from '@kbflow/queues';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from './api-error.ts';

/** One of a tenant's rate limits: which limit of the tier it is, over which window. */
export interface RateLimitPolicy {
  /** Names the policy in Redis keys and in the 429's message. */
  name: 'api-calls' | 'vector-operations';
  limit: keyof Pick<EffectiveLimits, 'maxApiCallsPerHour' | 'maxVectorOperationsPerMinute'>;
  windowSeconds: number;
}

const API_CALLS: RateLimitPolicy = { name: 'api-calls', limit: 'maxApiCallsPerHour', windowSeconds: 3_600 };
const VECTOR_OPERATIONS: RateLimitPolicy = { name: 'vector-operations', limit: 'maxVectorOperationsPerMinute', windowSeconds: 60 };

/** The outcome of one consume, as the headers report it. */
export interface RateLimitOutcome {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (at least 1). */
  resetSeconds: number;
}

/**
 * The `RateLimit-*` headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers,
 * the three-field form that express-rate-limit's `draft-7` mode and most
 * gateways send), plus `Retry-After` on a refusal.
 */
export function rateLimitHeaders(outcome: RateLimitOutcome): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(outcome.limit),
    'RateLimit-Remaining': String(outcome.remaining),
    'RateLimit-Reset': String(outcome.resetSeconds),
  };
  if (!outcome.allowed) headers['Retry-After'] = String(outcome.resetSeconds);
  return headers;
}

/**
 * A tenant's request rates, counted in Redis by rate-limiter-flexible's
 * RateLimiterRedis (an atomic INCR with the window's expiry), so every API
 * replica counts into the same window. Fixed windows: a tenant may spend a
 * window's points at its end and the next window's at the start of it (at
 * most twice the rate across one boundary), the usual price of one key and
 * one round trip a request.
 *
 * RateLimiterRedis holds its `points` per instance while a tenant's limit
 * is its own (tier and overrides): one instance per distinct limit value,
 * all with the same key prefix, so they share a tenant's counter and a
 * changed limit applies to the window already counted.
 */
export class TenantRateLimits {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #limiters = new Map<string, RateLimiterRedis>();

  constructor(deps: { redis: Redis; prefix: string; log: Logger }) {
    this.#redis = deps.redis;
    this.#prefix = deps.prefix;
    this.#log = deps.log;
  }

  #limiter(policy: RateLimitPolicy, points: number): RateLimiterRedis {
    const id = `${policy.name}:${points}`;
    let limiter = this.#limiters.get(id);
    if (!limiter) {
      // Distinct limits are few (three tiers and the overrides an operator sets); a bound keeps a stream of odd overrides from growing the map.
      if (this.#limiters.size >= 1_000) this.#limiters.clear();
      limiter = new RateLimiterRedis({
        storeClient: this.#redis,
        keyPrefix: `${this.#prefix}:ratelimit:${policy.name}`,
        points,
        duration: policy.windowSeconds,
      });
      this.#limiters.set(id, limiter);
    }
    return limiter;
  }

  /**
   * Counts `points` against the tenant's policy. Fails open (allowed, logged)
   * when Redis does not answer: the limits protect capacity, and without
   * Redis nothing can be queued anyway.
   */
  async consume(tenantId: string, limits: EffectiveLimits, policy: RateLimitPolicy, points = 1): Promise<RateLimitOutcome | undefined> {
    const limit = limits[policy.limit];
    if (limit === 0) return { allowed: false, limit, remaining: 0, resetSeconds: policy.windowSeconds };
    const outcome = (res: RateLimiterRes, allowed: boolean): RateLimitOutcome => ({
      allowed,
      limit,
      remaining: Math.max(0, res.remainingPoints),
      resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    });
    try {
      return outcome(await this.#limiter(policy, limit).consume(tenantId, points), true);
    } catch (error) {
      if (error instanceof RateLimiterRes) return outcome(error, false);
      this.#log.warn({ err: error, policy: policy.name }, 'rate limit not counted: Redis did not answer');
      return undefined;
    }
  }
}

/** Who is not limited: the admin key (the operator's own tooling and the purge must never be throttled). */
const unlimited = (principal: Principal | undefined): principal is undefined => !principal || principal.isAdmin;

function apply(res: Response, outcome: RateLimitOutcome | undefined, policy: RateLimitPolicy): ApiError | undefined {
  if (!outcome) return undefined;
  res.set(rateLimitHeaders(outcome));
  if (outcome.allowed) return undefined;
  const what = policy.name === 'api-calls' ? `${outcome.limit} API calls per hour` : `${outcome.limit} vector operations per minute`;
  return new ApiError(429, 'rate_limited', `the tenant's limit of ${what} is spent; retry in ${outcome.resetSeconds} s`, {
    headers: rateLimitHeaders(outcome),
  });
}

/**
 * Counts every authenticated /v1 request against the tenant's API calls per
 * hour; runs after `authenticate` and before the body is read, so a limited
 * client makes the API parse nothing.
 */
export function limitApiCalls(limits: TenantRateLimits): RequestHandler {
  return (req, res, next) => {
    const principal = req.principal;
    if (unlimited(principal)) return next();
    limits
      .consume(principal.tenantId, principal.limits, API_CALLS)
      .then((outcome) => next(apply(res, outcome, API_CALLS)))
      .catch(next);
  };
}

/**
 * Counts vector operations: one a search or query, one a text for an embed
 * call. Runs after the body is parsed (to count the texts); the response's
 * `RateLimit-*` headers are then this policy's, the tighter one on these routes.
 */
export function limitVectorOperations(limits: TenantRateLimits): RequestHandler {
  return (req: Request, res, next) => {
    const principal = req.principal;
    if (unlimited(principal)) return next();
    const texts = (req.body as { texts?: unknown } | undefined)?.texts;
    // Capped at the schema's 128 texts: a body the route then refuses never counts for more.
    const points = req.path === '/embed' && Array.isArray(texts) && texts.length > 0 ? Math.min(texts.length, 128) : 1;
    limits
      .consume(principal.tenantId, principal.limits, VECTOR_OPERATIONS, points)
      .then((outcome) => next(apply(res, outcome, VECTOR_OPERATIONS)))
      .catch(next);
  };
}
