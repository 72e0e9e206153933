import type { Queue } from 'bullmq';

/** Jobs a queue still has to start: waiting plus prioritized (kbflow's jobs all carry a priority). */
export async function backlogOf(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'prioritized');
  return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
}

export interface Throughput {
  /** Jobs that completed during the window. */
  completed: number;
  seconds: number;
  perSecond: number;
  /** The backlog when the window closed: a window is only a measurement of capacity if the workers never ran dry. */
  backlogAfter: number;
}

/**
 * Completed jobs per second over a window, from BullMQ's own counter of
 * completed jobs (the workers keep it; retention does not trim it).
 */
export async function measureThroughput(queue: Queue, windowMs: number): Promise<Throughput> {
  const completedCount = async () => Number((await queue.getMetrics('completed', 0, 0)).meta.count ?? 0);
  const startCount = await completedCount();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const endCount = await completedCount();
  const seconds = (performance.now() - started) / 1000;
  const backlogAfter = await backlogOf(queue);
  const completed = endCount - startCount;
  return { completed, seconds, perSecond: completed / seconds, backlogAfter };
}

/** Polls until `check` returns a value other than undefined, or fails naming what it waited for. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
