/**
 * How long a queue waits while a dependency it cannot do without (the
 * database) is down: the time the outage has lasted so far, at least
 * `minMs` and at most `maxMs`. So the waits grow roughly doubling (2 s, 2 s,
 * 4 s, 8 s, 16 s, 30 s, 30 s...) whether one job or fifty in flight meet
 * the outage, since they all read the same start; the first job that
 * succeeds ends the outage. A job that finds the database still down
 * after the wait is the probe: it costs no attempt either.
 */
export class OutageBackoff {
  private since: number | undefined;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(opts: { minMs?: number; maxMs?: number; now?: () => number } = {}) {
    this.minMs = opts.minMs ?? 2_000;
    this.maxMs = opts.maxMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  /** Records one more failure of the outage and returns how long to wait. */
  next(): number {
    const now = this.now();
    this.since ??= now;
    return Math.min(this.maxMs, Math.max(this.minMs, now - this.since));
  }

  /** Whether an outage is under way (a failure since the last success). */
  get active(): boolean {
    return this.since !== undefined;
  }

  /** The dependency answered: the next outage starts from `minMs` again. */
  reset(): void {
    this.since = undefined;
  }
}
