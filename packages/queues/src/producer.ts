import { FlowProducer, Queue, type FlowJob, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { ALL_QUEUES, parseJobData, type JobInput, type JobName, type QueueName } from './catalog.ts';
import { DEFAULT_JOB_OPTIONS, queueOptions } from './job-options.ts';
import { withTraceContext } from './job-tracing.ts';
import type { PriorityValue } from './priorities.ts';

/** Options a producer may set; priority is required on purpose (see priorities.ts). */
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
 * job's data gets the enqueuer's trace context (job-tracing.ts).
 */
export class JobProducer {
  readonly prefix: string;
  private readonly connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();
  private flowProducer: FlowProducer | undefined;
  private readonly attempts: Partial<Record<string, number>>;

  /** `attempts` overrides the default of 3 per queue (KBFLOW_JOB_ATTEMPTS). */
  constructor(connection: Redis, prefix: string, opts: { attempts?: Partial<Record<string, number>> } = {}) {
    this.connection = connection;
    this.prefix = prefix;
    this.attempts = opts.attempts ?? {};
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
  async enqueue<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    data: JobInput<Q, N>,
    opts: EnqueueOptions,
  ): Promise<Job> {
    const parsed = parseJobData(queue, name, withTraceContext(data));
    return this.queue(queue).add(name, parsed, this.withAttempts(queue, opts));
  }

  /** Validates and adds many jobs of one queue in one round trip. */
  async enqueueBulk<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    jobs: { data: JobInput<Q, N>; opts: EnqueueOptions }[],
  ): Promise<Job[]> {
    if (jobs.length === 0) return [];
    const parsed = jobs.map((j) => ({ name, data: parseJobData(queue, name, withTraceContext(j.data)), opts: this.withAttempts(queue, j.opts) }));
    return this.queue(queue).addBulk(parsed);
  }

  /** Adds a flow (a parent that completes when its children have), validating every node. */
  async enqueueFlow(root: FlowNode): Promise<void> {
    this.flowProducer ??= new FlowProducer({ connection: this.connection, prefix: this.prefix });
    await this.flowProducer.add(this.toFlowJob(root));
  }

  private toFlowJob(node: FlowNode): FlowJob {
    return {
      name: node.name,
      queueName: node.queue,
      prefix: this.prefix,
      // Every node, children too, carries the context of the code that adds the flow.
      data: parseJobData(node.queue, node.name as never, withTraceContext(node.data)),
      // FlowProducer does not apply a queue's default options: merge them here.
      opts: { ...DEFAULT_JOB_OPTIONS, ...this.withAttempts(node.queue, node.opts) },
      children: node.children?.map((child) => this.toFlowJob(child)),
    };
  }

  /** Closes the queues and the flow producer (not the shared connection). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.flowProducer?.close();
    this.queues.clear();
  }
}
