import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ
 * requires for workers (blocking commands must wait through a Redis restart
 * rather than fail); the retry strategy keeps reconnecting with a capped delay
 * so a restarted Redis is picked up again without a process restart.
 */
export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...opts,
  });
}

export type { Redis };
