import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from '@kbflow/testing';
import { parse } from 'csv-parse/sync';

/** A record as POST /v1/records takes it. */
export interface BenchRecord {
  id: string;
  title: string;
  body: string;
  metadata: Record<string, string>;
}

const TICKETS = path.join(SHARED_DATA, 'support-tickets');
/**
 * Bodies are cut to this length (and their Markdown headings flattened) so
 * that every record is exactly one chunk with kbflow's default chunking
 * (1,500 characters): N records make N chunks and N embeddings.
 */
const MAX_BODY_CHARS = 900;

type Row = Record<string, string>;

function readCsv(file: string): Row[] {
  return parse(readFileSync(path.join(TICKETS, file)), { columns: true, skip_empty_lines: true, relax_column_count: true }) as Row[];
}

function flatten(body: string): string {
  return (
    body
      .replace(/^\s{0,3}#{1,6}\s*/gm, '')
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/\s+\n/g, '\n')
      .replaceAll('\u0000', '')
      .trim()
      .slice(0, MAX_BODY_CHARS)
      // The cut may split a surrogate pair; PostgreSQL rejects the lone half.
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
  );
}

let cached: Omit<BenchRecord, 'id'>[] | undefined;

/** The 11,469 support tickets and GitHub issues of shared/data as record templates. */
function ticketTemplates(): Omit<BenchRecord, 'id'>[] {
  cached ??= [
    ...readCsv('suraj520_customer_support_tickets.csv').map((r) => ({
      title: r['Ticket Subject'] ?? '',
      body: flatten(`${r['Ticket Description'] ?? ''}\n${r.Resolution ?? ''}`),
      metadata: {
        product: r['Product Purchased'] ?? '',
        type: r['Ticket Type'] ?? '',
        priority: r['Ticket Priority'] ?? '',
        channel: r['Ticket Channel'] ?? '',
      },
    })),
    ...['nlbse24_github_issues_train.csv', 'nlbse24_github_issues_test.csv'].flatMap((file) =>
      readCsv(file).map((r) => ({ title: r.title ?? '', body: flatten(r.body ?? ''), metadata: { repo: r.repo ?? '', label: r.label ?? '' } })),
    ),
  ].filter((t) => t.title.trim() !== '' && t.body !== '');
  return cached;
}

/**
 * `count` records cycling through the ticket templates with distinct ids.
 * Each body ends with its own reference line, so no two records share text:
 * every one is stored, chunked and embedded (no content-hash skip, no
 * embedding-cache hit).
 */
export function syntheticRecords(count: number, idPrefix: string): BenchRecord[] {
  const templates = ticketTemplates();
  return Array.from({ length: count }, (_, i) => {
    const t = templates[i % templates.length]!;
    const id = `${idPrefix}-${i}`;
    return { id, title: t.title, body: `${t.body}\n\nReference ${id}.`, metadata: t.metadata };
  });
}

/** Questions to ask of an index of these records: the GitHub issue titles, in file order, distinct. */
export function ticketQuestions(count: number): string[] {
  const titles = [
    ...new Set(
      readCsv('nlbse24_github_issues_test.csv')
        .map((r) => (r.title ?? '').trim())
        .filter((t) => t.length >= 15),
    ),
  ];
  if (titles.length < count) throw new Error(`only ${titles.length} distinct questions available, ${count} asked`);
  return titles.slice(0, count);
}
