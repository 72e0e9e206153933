import { readFile } from 'node:fs/promises';
import { quantile } from './stats.ts';

/** Resident memory of one process over a phase, in MB. */
export interface MemorySummary {
  samples: number;
  firstMb: number;
  medianMb: number;
  peakMb: number;
}

/** VmRSS of a process from /proc/<pid>/status, in MB; undefined once it has exited. */
async function residentMb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples VmRSS of named processes every `everyMs` (500 ms by default).
 * Phases split the samples: `phase(name)` starts a new one, and `summary()`
 * reports peak and median per process per phase.
 */
export class MemorySampler {
  readonly #pids: Map<string, number>;
  readonly #samples = new Map<string, Map<string, number[]>>();
  #phase = 'start';
  readonly #timer: NodeJS.Timeout;
  #busy = false;

  constructor(pids: Map<string, number>, everyMs = 500) {
    this.#pids = pids;
    this.#timer = setInterval(() => void this.sample(), everyMs);
    this.#timer.unref();
    void this.sample();
  }

  /** Starts a new phase; later samples are counted under it. */
  phase(name: string): void {
    this.#phase = name;
    void this.sample();
  }

  /** Takes one sample now (also called by the timer). */
  async sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      let byProcess = this.#samples.get(this.#phase);
      if (!byProcess) this.#samples.set(this.#phase, (byProcess = new Map()));
      for (const [name, pid] of this.#pids) {
        const mb = await residentMb(pid);
        if (mb === undefined) continue;
        const list = byProcess.get(name) ?? [];
        list.push(mb);
        byProcess.set(name, list);
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Peak and median per phase and process. */
  summary(): Record<string, Record<string, MemorySummary>> {
    const out: Record<string, Record<string, MemorySummary>> = {};
    for (const [phase, byProcess] of this.#samples) {
      out[phase] = {};
      for (const [name, values] of byProcess) {
        out[phase][name] = { samples: values.length, firstMb: values[0]!, medianMb: quantile(values, 0.5), peakMb: Math.max(...values) };
      }
    }
    return out;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
