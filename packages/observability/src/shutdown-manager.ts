import { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';

interface Handler {
  name: string;
  fn: () => Promise<unknown>;
}

/**
 * Runs named close handlers once, in registration order, within a deadline
 * (kept below the Kubernetes termination grace period). SIGTERM and SIGINT
 * both lead here; a second signal does not start a second shutdown.
 */
export class ShutdownManager {
  private readonly handlers: Handler[] = [];
  private running: Promise<void> | undefined;

  private readonly log: Logger;
  private readonly deadlineMs: number;

  constructor(log: Logger, deadlineMs: number) {
    this.log = log;
    this.deadlineMs = deadlineMs;
  }

  /** Adds a step; steps run in the order they were added. */
  register(name: string, fn: () => Promise<unknown>): void {
    this.handlers.push({ name, fn });
  }

  /**
   * Installs SIGTERM/SIGINT handlers that shut down and then exit. They stay
   * installed: a terminal's Ctrl-C reaches every process of the group and a
   * supervisor (concurrently, Kubernetes) may signal again, and a second
   * signal must not kill a process that is draining its jobs.
   */
  listen(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.running) {
        this.log.info({ signal }, 'shutdown already under way');
        return;
      }
      this.log.info({ signal }, 'shutdown requested');
      void this.shutdown()
        .then(() => flushLog(this.log))
        .then(() => process.exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  /** Runs every handler once; later calls return the same promise. */
  shutdown(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    const deadline = setTimeout(() => {
      this.log.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed, exiting');
      process.exit(1);
    }, this.deadlineMs);
    deadline.unref();
    for (const { name, fn } of this.handlers) {
      const started = Date.now();
      try {
        await fn();
        this.log.info({ step: name, ms: Date.now() - started }, 'shutdown step done');
      } catch (error) {
        this.log.error({ step: name, err: error }, 'shutdown step failed');
      }
    }
    clearTimeout(deadline);
  }
}

/**
 * Ends the logger's stream and waits (at most `capMs`) for it to close before
 * the process exits. pino writes stdout asynchronously and on exit flushes what
 * is buffered synchronously; when a write is still in flight (stdout is a pipe
 * whose reader is slow) that flush lands the last lines *before* the in-flight
 * ones, so a shutdown's steps read out of order. Ending first, as pino itself
 * does on `beforeExit`, writes every line in order.
 */
function flushLog(log: Logger, capMs = 2_000): Promise<void> {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!(stream instanceof EventEmitter) || !('end' in stream) || typeof stream.end !== 'function') return Promise.resolve();
  const end = stream.end.bind(stream) as () => void;
  return new Promise((resolve) => {
    const cap = setTimeout(resolve, capMs);
    cap.unref();
    stream.once('close', () => {
      clearTimeout(cap);
      resolve();
    });
    end();
  });
}
