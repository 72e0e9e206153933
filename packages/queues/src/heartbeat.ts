import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';

/** What a live process says about itself. */
export interface WorkerInfo {
  service: string;
  instanceId: string;
  host: string;
  pid: number;
  /** Jobs the process runs at once, per queue it consumes (empty for the api). */
  concurrency: Record<string, number>;
  version: string;
  startedAt: string;
  lastSeenAt: string;
}

const HEARTBEAT_EVERY_MS = 5_000;
/** A replica missing three heartbeats is gone (killed, partitioned). */
const HEARTBEAT_TTL_MS = 15_000;

/** kbflow's version, from the root package.json (the same file in the image). */
export const KBFLOW_VERSION: string = (() => {
  try {
    const file = path.resolve(import.meta.dirname, '../../../package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

function keyOf(prefix: string, service: string, instanceId: string): string {
  return `${prefix}:heartbeat:${service}:${instanceId}`;
}

/**
 * Writes this process's {@link WorkerInfo} to Redis every 5 s with a 15 s
 * expiry, so `GET /v1/workers` lists live replicas and forgets dead ones on
 * its own. Keys share the queue prefix (and its Redis Cluster hash tag).
 */
export function startHeartbeat(
  redis: Redis,
  prefix: string,
  info: { service: string; concurrency: Record<string, number> },
): { info: WorkerInfo; stop: () => Promise<void> } {
  const self: WorkerInfo = {
    service: info.service,
    instanceId: randomUUID(),
    host: hostname(),
    pid: process.pid,
    concurrency: info.concurrency,
    version: KBFLOW_VERSION,
    startedAt: new Date().toISOString(),
    lastSeenAt: new Date().toISOString(),
  };
  const key = keyOf(prefix, self.service, self.instanceId);
  const beat = () => {
    self.lastSeenAt = new Date().toISOString();
    // A missed beat is harmless (the next one is 5 s away); Redis being
    // down is reported by readiness, not here.
    redis.set(key, JSON.stringify(self), 'PX', HEARTBEAT_TTL_MS).catch(() => undefined);
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  timer.unref();
  return {
    info: self,
    stop: async () => {
      clearInterval(timer);
      await redis.del(key).catch(() => undefined);
    },
  };
}

/** Every live process's heartbeat, sorted by service then start time. */
export async function listWorkers(redis: Redis, prefix: string): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:heartbeat:*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values
    .filter((v): v is string => v !== null)
    .map((v) => JSON.parse(v) as WorkerInfo)
    .sort((a, b) => a.service.localeCompare(b.service) || a.startedAt.localeCompare(b.startedAt));
}
