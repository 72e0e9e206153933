import type { EvaluationReport } from './run-evaluation.ts';

const fixed = (n: number) => n.toFixed(3);

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/**
 * The evaluation as Markdown tables (readable in a terminal, pasteable into
 * docs/benchmarks.md): one row per mode, then hit@5 per question category.
 */
export function formatReport(report: EvaluationReport): string {
  const lines: string[] = [];
  const { questionSet: set } = report;
  lines.push(
    `${set.name} (${set.format}): ${set.guides} guides, ${set.questions} questions; ` +
      `${report.identifiable} with an identifiable source guide (${report.multiSource} of them in several guides), ${report.excluded.length} excluded`,
  );
  for (const q of report.excluded) lines.push(`  excluded ${q.id} [${q.category}] "${q.question}": ${q.reason}`);
  lines.push(
    `knowledge base ${report.knowledgeBase}: ${report.index.records} records sent, ${report.index.accepted} accepted, ${report.index.unchanged} unchanged; top ${report.topK}`,
  );
  lines.push('');
  const errors = report.modes.some((m) => m.errors > 0);
  lines.push(
    ...table(
      ['mode', 'hit@1', 'hit@3', 'hit@5', `MRR@${report.topK}`, 'p50 ms', 'p95 ms', ...(errors ? ['errors'] : [])],
      report.modes.map((m) => [
        m.mode,
        fixed(m.hitAt1),
        fixed(m.hitAt3),
        fixed(m.hitAt5),
        fixed(m.mrr),
        String(m.latencyP50Ms),
        String(m.latencyP95Ms),
        ...(errors ? [String(m.errors)] : []),
      ]),
    ),
  );
  const categories = [...new Set(report.modes.flatMap((m) => Object.keys(m.byCategory)))].sort();
  if (categories.length > 0) {
    lines.push('');
    lines.push(
      ...table(
        ['hit@5 by category', 'questions', ...report.modes.map((m) => m.mode)],
        categories.map((c) => [
          c,
          String(report.modes[0]?.byCategory[c]?.questions ?? 0),
          ...report.modes.map((m) => (m.byCategory[c] ? fixed(m.byCategory[c].hitAt5) : '-')),
        ]),
      ),
    );
  }
  if (errors) {
    const firstError = report.outcomes.find((o) => o.error);
    lines.push('', `failed searches count as misses; first error: ${firstError?.error}`);
  }
  return lines.join('\n');
}
