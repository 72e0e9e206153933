import { FlowProducer, Queue, type FlowJob, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { ALL_QUEUES, parseJobData, type JobInput, type JobName, type QueueName } from './catalog.ts';
import { FAIR_QUEUES, FairScheduler, type FairGroup } from './fair-scheduling.ts';
import { DEFAULT_JOB_OPTIONS, queueOptions } from './job-options.ts';
import { withTraceContext } from './job-tracing.ts';
import type { PriorityValue } from './priorities.ts';

/**
 * Options a producer may set; priority is required on purpose (see
 * priorities.ts). It is the job's class: on a fair queue the producer turns
 * it into the job's place in that class's band (fair-scheduling.ts).
 */
export type EnqueueOptions = Omit<JobsOptions, 'priority'> & { priority: PriorityValue };

/** One node of a typed flow: a job, its priority and the children it waits for. */
export type FlowNode = {
  [Q in QueueName]: {
    [N in JobName<Q>]: { queue: Q; name: N; data: JobInput<Q, N>; opts: EnqueueOptions; children?: FlowNode[] };
  }[JobName<Q>];
}[QueueName];

/**
 * The typed producers: every enqueue in kbflow goes through here, validated
 * against the catalog schema before it reaches Redis. With tracing on, each
 * job's data gets the enqueuer's trace context (job-tracing.ts). On the
 * fair queues each job's priority class becomes its tenant's next place in
 * that class (fair-scheduling.ts), so no tenant's backlog holds another's
 * jobs back for long.
 */
export class JobProducer {
  readonly prefix: string;
  private readonly connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();
  private flowProducer: FlowProducer | undefined;
  private readonly attempts: Partial<Record<string, number>>;
  private readonly fair: FairScheduler;

  /** `attempts` overrides the default of 3 per queue (KBFLOW_JOB_ATTEMPTS). */
  constructor(connection: Redis, prefix: string, opts: { attempts?: Partial<Record<string, number>> } = {}) {
    this.connection = connection;
    this.prefix = prefix;
    this.attempts = opts.attempts ?? {};
    this.fair = new FairScheduler(connection, prefix);
  }

  /**
   * The BullMQ priority of each job, in order: its class on a plain queue,
   * its tenant's next place in the class's band on a fair one (one Redis
   * round trip for all of them; jobs of one tenant and class keep their
   * order).
   */
  private async priorities(jobs: { queue: QueueName; opts: EnqueueOptions; data: unknown }[]): Promise<number[]> {
    const out: number[] = jobs.map((j) => j.opts.priority);
    const groups = new Map<string, FairGroup & { at: number[] }>();
    jobs.forEach((job, i) => {
      if (!FAIR_QUEUES.has(job.queue)) return;
      const tenantId = (job.data as { tenantId?: string } | undefined)?.tenantId;
      const key = `${job.queue}\u0000${job.opts.priority}\u0000${tenantId ?? ''}`;
      let group = groups.get(key);
      if (!group) {
        group = { queue: job.queue, cls: job.opts.priority, tenantId, count: 0, at: [] };
        groups.set(key, group);
      }
      group.count++;
      group.at.push(i);
    });
    if (groups.size === 0) return out;
    const all = [...groups.values()];
    const assigned = await this.fair.assign(all);
    all.forEach((group, g) => group.at.forEach((i, k) => (out[i] = assigned[g]![k]!)));
    return out;
  }

  /** Options with the queue's configured attempts, unless the caller set them. */
  private withAttempts(queue: QueueName, opts: EnqueueOptions): EnqueueOptions {
    const attempts = this.attempts[queue];
    return attempts === undefined || opts.attempts !== undefined ? opts : { ...opts, attempts };
  }

  /** The BullMQ queue of a name, created once per producer. */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, ...queueOptions(this.prefix) });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Every queue of the catalog (for counts, Bull Board, metrics). */
  allQueues(): Queue[] {
    return ALL_QUEUES.map((name) => this.queue(name));
  }

  /** The Redis key of a queue, as BullMQ's `parent.queue` option wants it. */
  queueKey(name: QueueName): string {
    return `${this.prefix}:${name}`;
  }

  /** Validates and adds one job. */
  async enqueue<Q extends QueueName, N extends JobName<Q>>(queue: Q, name: N, data: JobInput<Q, N>, opts: EnqueueOptions): Promise<Job> {
    const parsed = parseJobData(queue, name, withTraceContext(data));
    const [priority] = await this.priorities([{ queue, opts, data: parsed }]);
    return this.queue(queue).add(name, parsed, { ...this.withAttempts(queue, opts), priority });
  }

  /** Validates and adds many jobs of one queue in one round trip. */
  async enqueueBulk<Q extends QueueName, N extends JobName<Q>>(queue: Q, name: N, jobs: { data: JobInput<Q, N>; opts: EnqueueOptions }[]): Promise<Job[]> {
    if (jobs.length === 0) return [];
    const parsed = jobs.map((j) => ({ name, data: parseJobData(queue, name, withTraceContext(j.data)), opts: this.withAttempts(queue, j.opts) }));
    const priorities = await this.priorities(parsed.map((j) => ({ queue, opts: j.opts, data: j.data })));
    return this.queue(queue).addBulk(parsed.map((j, i) => ({ ...j, opts: { ...j.opts, priority: priorities[i] } })));
  }

  /** Adds a flow (a parent that completes when its children have), validating every node. */
  async enqueueFlow(root: FlowNode): Promise<void> {
    this.flowProducer ??= new FlowProducer({ connection: this.connection, prefix: this.prefix });
    const nodes: FlowNode[] = [];
    const walk = (node: FlowNode) => {
      nodes.push(node);
      node.children?.forEach(walk);
    };
    walk(root);
    const priorities = await this.priorities(nodes.map((n) => ({ queue: n.queue, opts: n.opts, data: n.data })));
    const priorityOf = new Map(nodes.map((n, i) => [n, priorities[i]!]));
    await this.flowProducer.add(this.toFlowJob(root, priorityOf));
  }

  private toFlowJob(node: FlowNode, priorityOf: Map<FlowNode, number>): FlowJob {
    return {
      name: node.name,
      queueName: node.queue,
      prefix: this.prefix,
      // Every node, children too, carries the context of the code that adds the flow.
      data: parseJobData(node.queue, node.name as never, withTraceContext(node.data)),
      // FlowProducer does not apply a queue's default options: merge them here.
      opts: { ...DEFAULT_JOB_OPTIONS, ...this.withAttempts(node.queue, node.opts), priority: priorityOf.get(node)! },
      children: node.children?.map((child) => this.toFlowJob(child, priorityOf)),
    };
  }

  /** Closes the queues and the flow producer (not the shared connection). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.flowProducer?.close();
    this.queues.clear();
  }
}
