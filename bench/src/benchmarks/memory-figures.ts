import { fmt } from '../report/markdown.ts';
import type { Figure } from '../report/types.ts';
import type { MemorySummary } from '../memory-sampler.ts';
import { single } from '../stats.ts';

/** The budget per service process. */
const MEMORY_BUDGET_MB = 300;

type PhaseSummary = Record<string, Record<string, MemorySummary>>;

/**
 * One figure per service: peak VmRSS during `phase`, next to the same
 * process's peak during `baselinePhase` (the same work without the extra
 * load), against the 300 MB budget.
 */
export function memoryFigures(keyPrefix: string, memory: PhaseSummary, phase: string, baselinePhase: { name: string; label: string }): Figure[] {
  const during = memory[phase] ?? {};
  const before = memory[baselinePhase.name] ?? {};
  return Object.entries(during).map(([service, m]) => {
    const met = m.peakMb < MEMORY_BUDGET_MB;
    const base = before[service];
    return {
      key: `${keyPrefix}.rss-peak.${service}`,
      label: `${service} resident memory, peak (median ${fmt(m.medianMb)} MB)`,
      unit: 'MB',
      better: 'lower' as const,
      value: single(m.peakMb),
      ...(base ? { baseline: { label: baselinePhase.label, value: single(base.peakMb), measured: true } } : {}),
      target: {
        text: `< ${MEMORY_BUDGET_MB} MB`,
        met,
        ...(met ? {} : { gap: `${fmt(m.peakMb - MEMORY_BUDGET_MB)} MB over (${((m.peakMb / MEMORY_BUDGET_MB - 1) * 100).toFixed(0)} %)` }),
      },
    };
  });
}

/** One line: peak and median VmRSS per service during `phase`. */
export function memoryNote(memory: PhaseSummary, phase: string): string {
  const during = memory[phase] ?? {};
  const parts = Object.entries(during).map(([s, m]) => `${s} ${fmt(m.peakMb)} / ${fmt(m.medianMb)}`);
  return `Resident memory (${phase}), peak / median MB (VmRSS every 500 ms): ${parts.join(', ')}.`;
}

/**
 * One figure per service: its highest peak VmRSS over `phases`, naming the
 * phase it came from, against the 300 MB budget (every phase must stay
 * under it, so the highest one is the one that counts).
 */
export function peakMemoryFigures(keyPrefix: string, memory: PhaseSummary, phases: string[]): Figure[] {
  const services = [...new Set(phases.flatMap((p) => Object.keys(memory[p] ?? {})))];
  return services.map((service) => {
    let peak = { mb: 0, phase: '' };
    for (const phase of phases) {
      const m = memory[phase]?.[service];
      if (m && m.peakMb > peak.mb) peak = { mb: m.peakMb, phase };
    }
    const met = peak.mb < MEMORY_BUDGET_MB;
    return {
      key: `${keyPrefix}.rss-peak.${service}`,
      label: `${service} resident memory, highest peak of every phase (${peak.phase})`,
      unit: 'MB',
      better: 'lower' as const,
      value: single(peak.mb),
      target: {
        text: `< ${MEMORY_BUDGET_MB} MB`,
        met,
        ...(met ? {} : { gap: `${fmt(peak.mb - MEMORY_BUDGET_MB)} MB over (${((peak.mb / MEMORY_BUDGET_MB - 1) * 100).toFixed(0)} %)` }),
      },
    };
  });
}

/** The prom-client default metrics that split a process's memory. */
const MEMORY_METRICS = [
  'process_resident_memory_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
] as const;

/**
 * Where each service's resident memory goes, read from its own /metrics
 * (prom-client's process and V8 gauges): V8 heap (used of total), external
 * (Buffers, ArrayBuffers) and the rest: native code and libraries
 * (LanceDB, Prisma's engine), thread stacks, allocator slack.
 */
export async function memoryBreakdown(services: Map<string, { metricsPort: number }>, when = 'at the end of the loaded phase'): Promise<string> {
  const parts: string[] = [];
  for (const [name, { metricsPort: port }] of services) {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const mb: Record<string, number> = {};
      for (const metric of MEMORY_METRICS) {
        const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `));
        mb[metric] = line ? Number(line.split(' ').pop()) / 2 ** 20 : Number.NaN;
      }
      const rss = mb.process_resident_memory_bytes!;
      const heap = mb.nodejs_heap_size_total_bytes!;
      const external = mb.nodejs_external_memory_bytes!;
      parts.push(
        `${name} ${fmt(rss)} = heap ${fmt(heap)} (used ${fmt(mb.nodejs_heap_size_used_bytes!)}) + external ${fmt(external)} + native/other ${fmt(rss - heap - external)}`,
      );
    } catch {
      parts.push(`${name} unreadable`);
    }
  }
  return `Memory by kind ${when}, MB (each process's /metrics): ${parts.join('; ')}.`;
}
