import { AppError } from '@kbflow/errors';
import type { Redis } from '@kbflow/queues';
import type { Logger } from 'pino';
import { RobotsRules, robotsFileOf, type RobotsFile } from '../domain/robots-rules.ts';

/** RFC 9309 section 2.5: a crawler must parse at least 500 KiB; past that it may stop. */
const ROBOTS_MAX_BYTES = 500 * 1024;

/** An unreachable robots.txt is asked again this soon (its pages meanwhile wait or retry). */
const UNREACHABLE_TTL_MS = 30_000;

/**
 * How long a process keeps the rules it read from Redis before reading them
 * again. Without it every page paid a Redis round trip and a re-parse of the
 * file; with it a change (or a cache entry deleted by hand) reaches a
 * replica at most this late, on top of the cache's own `ttlMs`.
 */
const LOCAL_TTL_MS = 10_000;

export type FetchResource = (url: string, maxBytes: number) => Promise<{ status: number; finalUrl: string; contentType: string; body: Buffer }>;

export interface RobotsCacheOptions {
  redis: Redis;
  prefix: string;
  fetchResource: FetchResource;
  userAgent: string;
  /** How long a read robots.txt is kept (KBFLOW_ROBOTS_CACHE_MS). */
  ttlMs: number;
  log: Logger;
}

/**
 * Each origin's robots.txt, read once per `ttlMs` for all scraper replicas:
 * the outcome ({@link RobotsFile}) is kept in Redis, so one fetch serves every
 * page of every replica until it expires. Fetched through the HTTP engine's
 * `fetchResource`, the same address guard as pages.
 */
export class RobotsCache {
  private readonly opts: RobotsCacheOptions;
  /** Reads in progress in this process: a burst of pages on a cold host makes one request. */
  private readonly inFlight = new Map<string, Promise<RobotsRules>>();
  /** Rules read lately, by origin, until `until` (see LOCAL_TTL_MS); a crawl touches few origins, and expired entries are replaced on the next read. */
  private readonly recent = new Map<string, { rules: RobotsRules; until: number }>();

  constructor(opts: RobotsCacheOptions) {
    this.opts = opts;
  }

  /** The rules of `origin` (`https://host:port`). */
  rulesFor(origin: string): Promise<RobotsRules> {
    const recent = this.recent.get(origin);
    if (recent && recent.until > Date.now()) return Promise.resolve(recent.rules);
    let pending = this.inFlight.get(origin);
    if (!pending) {
      const until = Date.now() + Math.min(LOCAL_TTL_MS, this.opts.ttlMs);
      pending = this.load(origin)
        .then((rules) => {
          // An unreachable file is not kept here: its pages retry on the cache's own short TTL.
          if (rules.file.kind !== 'unreachable') this.remember(origin, rules, until);
          return rules;
        })
        .finally(() => this.inFlight.delete(origin));
      this.inFlight.set(origin, pending);
    }
    return pending;
  }

  private remember(origin: string, rules: RobotsRules, until: number): void {
    // Bounded: a scraper crawling many hosts keeps the latest 1,000.
    if (this.recent.size >= 1_000) this.recent.delete(this.recent.keys().next().value!);
    this.recent.delete(origin);
    this.recent.set(origin, { rules, until });
  }

  private async load(origin: string): Promise<RobotsRules> {
    const key = `${this.opts.prefix}:robots:${origin}`;
    const cached = await this.opts.redis.get(key);
    if (cached) return new RobotsRules(origin, JSON.parse(cached) as RobotsFile, this.opts.userAgent);
    let file: RobotsFile;
    try {
      const res = await this.opts.fetchResource(`${origin}/robots.txt`, ROBOTS_MAX_BYTES);
      file = robotsFileOf(res.status, res.body.toString('utf8'));
    } catch (error) {
      // A refused address is the page's own answer too; anything else is "unreachable" (RFC 9309 2.3.1.4).
      if (error instanceof AppError && error.code === 'blocked_address') throw error;
      file = { kind: 'unreachable', reason: `robots.txt: ${(error as Error).message}` };
    }
    const ttl = file.kind === 'unreachable' ? Math.min(UNREACHABLE_TTL_MS, this.opts.ttlMs) : this.opts.ttlMs;
    await this.opts.redis.set(key, JSON.stringify(file), 'PX', ttl);
    this.opts.log.info({ origin, robots: file.kind }, 'robots.txt read');
    return new RobotsRules(origin, file, this.opts.userAgent);
  }
}
