import type { Redis } from './connection.ts';

/**
 * The Redis pub/sub channel on which a finished tenant purge is announced
 * (the message is the tenant id), so every process drops what it holds of
 * the tenant in memory (the embedding caches).
 */
export function tenantPurgedChannel(prefix: string): string {
  return `${prefix}:tenant-purged`;
}

/**
 * Calls `onPurged(tenantId)` for every purge announced on
 * {@link tenantPurgedChannel}, on a connection of its own (a subscribed
 * connection can do nothing else). Returns the function that unsubscribes
 * and closes that connection.
 */
export async function onTenantPurged(redis: Redis, prefix: string, onPurged: (tenantId: string) => void): Promise<() => Promise<void>> {
  const subscriber = redis.duplicate();
  const channel = tenantPurgedChannel(prefix);
  subscriber.on('message', (from: string, tenantId: string) => {
    if (from === channel) onPurged(tenantId);
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.quit();
  };
}
