import type { ChunkInput, PreparedRecord } from '@kbflow/db';
import { chunkMarkdown, sha256Hex } from '@kbflow/extraction';
import type { RecordRow } from './record-rows.ts';

/** The document URL of a record: stable per (source, id), so a re-ingest finds it. */
export function recordUrl(source: string, id: string): string {
  return `record://${source}/${encodeURIComponent(id)}`;
}

/** Metadata with its keys sorted, so the same values always hash the same. */
function canonical(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(metadata)
      .sort()
      .map((k) => [k, metadata[k]]),
  );
}

/**
 * A record as a document: Markdown with the title as its heading and a
 * content hash over title, body and metadata (a change to any of them is a
 * new version). Chunks come from {@link chunkRecord}, only when needed.
 */
export function prepareRecord(source: string, record: RecordRow): PreparedRecord {
  const title = record.title.replace(/\s+/g, ' ').trim();
  const markdown = title ? `# ${title}\n\n${record.body}` : record.body;
  const metadata = canonical(record.metadata);
  return {
    url: recordUrl(source, record.id),
    title,
    markdown,
    contentHash: sha256Hex(JSON.stringify([record.title, record.body, metadata])),
    metadata,
  };
}

/** A record document's chunks: chunked like a page, so retrieval treats both alike. */
export function chunkRecord(record: Pick<PreparedRecord, 'markdown'>): ChunkInput[] {
  return chunkMarkdown(record.markdown).map((c) => ({ position: c.position, heading: c.heading, text: c.text, hash: c.hash }));
}

/** Splits items into groups of at most `maxItems` whose `weight` sums stay within `maxWeight` (one item may exceed it alone). */
export function groupByLimits<T>(items: T[], maxItems: number, maxWeight: number, weight: (item: T) => number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let sum = 0;
  for (const item of items) {
    const w = weight(item);
    if (current.length > 0 && (current.length >= maxItems || sum + w > maxWeight)) {
      groups.push(current);
      current = [];
      sum = 0;
    }
    current.push(item);
    sum += w;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
