import type { Redis } from '@kbflow/queues';
import type { Logger } from 'pino';
import { RobotsRules, robotsFileOf, type RobotsFile } from '../domain/robots-rules.ts';

/** RFC 9309 section 2.5: a crawler must parse at least 500 KiB; past that it may stop. */
const ROBOTS_MAX_BYTES = 500 * 1024;

/** An unreachable robots.txt is asked again this soon (its pages meanwhile wait or retry). */
const UNREACHABLE_TTL_MS = 30_000;

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

  constructor(opts: RobotsCacheOptions) {
    this.opts = opts;
  }

  /** The rules of `origin` (`https://host:port`). */
  rulesFor(origin: string): Promise<RobotsRules> {
    let pending = this.inFlight.get(origin);
    if (!pending) {
      pending = this.load(origin).finally(() => this.inFlight.delete(origin));
      this.inFlight.set(origin, pending);
    }
    return pending;
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
      if ((error as { code?: string }).code === 'blocked_address') throw error;
      file = { kind: 'unreachable', reason: `robots.txt: ${(error as Error).message}` };
    }
    const ttl = file.kind === 'unreachable' ? Math.min(UNREACHABLE_TTL_MS, this.opts.ttlMs) : this.opts.ttlMs;
    await this.opts.redis.set(key, JSON.stringify(file), 'PX', ttl);
    this.opts.log.info({ origin, robots: file.kind }, 'robots.txt read');
    return new RobotsRules(origin, file, this.opts.userAgent);
  }
}
