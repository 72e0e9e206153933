import type { QueueName } from '@kbflow/queues';
import { QueueEvents } from 'bullmq';

export interface WatchedEvent {
  queue: QueueName;
  event: 'stalled' | 'failed';
  jobId: string;
  at: number;
  reason?: string;
}

/**
 * Listens to BullMQ's event streams of some queues and records the jobs that
 * stalled (a killed worker's job taken back by the stalled-job check) and
 * the jobs that failed for good. It sees events from the moment `start`
 * resolves, so start it before the crawl.
 */
export class QueueWatch {
  readonly events: WatchedEvent[] = [];
  private readonly listeners: QueueEvents[];

  private constructor(listeners: QueueEvents[]) {
    this.listeners = listeners;
  }

  static async start(redisUrl: string, prefix: string, queues: QueueName[]): Promise<QueueWatch> {
    const url = new URL(redisUrl);
    const listeners = queues.map(
      (queue) =>
        new QueueEvents(queue, {
          prefix,
          connection: {
            host: url.hostname,
            port: Number(url.port || 6379),
            maxRetriesPerRequest: null,
            retryStrategy: (times: number) => Math.min(times * 200, 2000),
          },
        }),
    );
    const watch = new QueueWatch(listeners);
    listeners.forEach((listener, i) => {
      const queue = queues[i]!;
      listener.on('stalled', ({ jobId }) => watch.events.push({ queue, event: 'stalled', jobId, at: Date.now() }));
      listener.on('failed', ({ jobId, failedReason }) => watch.events.push({ queue, event: 'failed', jobId, at: Date.now(), reason: failedReason }));
      // A Redis restart surfaces here as connection errors; the listener reconnects by itself.
      listener.on('error', () => undefined);
    });
    await Promise.all(listeners.map((listener) => listener.waitUntilReady()));
    return watch;
  }

  /** Events of one kind (and queue), optionally only those after `since`. */
  of(event: WatchedEvent['event'], queue?: QueueName, since = 0): WatchedEvent[] {
    return this.events.filter((e) => e.event === event && (queue === undefined || e.queue === queue) && e.at >= since);
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener.close().catch(() => undefined)));
  }
}
