import { Priority } from './priorities.ts';
import { QueueName } from './catalog.ts';
import type { FlowNode } from './producer.ts';

/** The job id of a crawl-like task's `complete-crawl` flow parent (on `aggregate`): one per task. */
export function crawlJobId(taskId: string): string {
  return `crawl-${taskId}`;
}

/**
 * The flow of a crawl-like task: a `complete-crawl` parent over one
 * `scrape-page` child per seed. Shared by the api (`/v1/crawl`, scrape,
 * "run now") and maintenance (scheduled source runs), so a run is exactly
 * a crawl.
 */
export function crawlFlow(input: {
  tenantId: string;
  taskId: string;
  seeds: string[];
  engine: 'auto' | 'http' | 'browser';
  deleteUnreached?: boolean;
}): FlowNode {
  const { tenantId, taskId, engine } = input;
  return {
    queue: QueueName.aggregate,
    name: 'complete-crawl',
    data: { tenantId, taskId, correlationId: taskId, ...(input.deleteUnreached === undefined ? {} : { deleteUnreached: input.deleteUnreached }) },
    opts: { priority: Priority.NORMAL, jobId: crawlJobId(taskId) },
    children: input.seeds.map((url, i) => ({
      queue: QueueName.scrape,
      name: 'scrape-page',
      data: { tenantId, taskId, url, depth: 0, engine, correlationId: taskId },
      opts: { priority: Priority.NORMAL, jobId: `scrape-${taskId}-${i}`, ignoreDependencyOnFailure: true },
    })),
  };
}
