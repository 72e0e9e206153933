import { pageOfHeading } from '@kbflow/extraction';

/** A retrieved chunk with its document. */
export interface RetrievedChunk {
  chunkId: string;
  documentId: string;
  url: string;
  title: string;
  heading: string;
  text: string;
  /** SHA-256 of the text (equal hashes are duplicates). */
  hash: string;
  contentType: string;
  source: string;
  /** The document's last change. */
  updatedAt: Date;
  score: number;
  /** The PDF page the chunk starts on (documents extracted with page structure). */
  page?: number | undefined;
}

export interface Citation {
  url: string;
  title: string;
  snippet: string;
  score: number;
  /** The PDF page of the best passage cited. */
  page?: number;
}

/** The PDF page a chunk is on: from its heading breadcrumb (`Page 3`), for PDF documents only. */
export function pageOf(chunk: Pick<RetrievedChunk, 'url' | 'heading' | 'page'>): number | undefined {
  if (chunk.page !== undefined) return chunk.page;
  let path: string;
  try {
    path = new URL(chunk.url).pathname;
  } catch {
    return undefined;
  }
  return /\.pdf$/i.test(path) ? pageOfHeading(chunk.heading) : undefined;
}

const SNIPPET_CHARS = 300;

/** The chunk text without its leading heading breadcrumb line. */
export function bodyOf(chunk: Pick<RetrievedChunk, 'text' | 'heading'>): string {
  const text = chunk.text.trim();
  if (chunk.heading && text.startsWith(chunk.heading)) return text.slice(chunk.heading.length).trim();
  return text;
}

/** A readable snippet: whitespace folded, cut at a word boundary. */
export function snippetOf(text: string, max = SNIPPET_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max - 40))}…`;
}

/**
 * One citation per document URL, in the order of `chunks` (best first as
 * retrieval ranked them: by score, or by MMR when diversifying, where a
 * lower score may come first on purpose): several chunks of one page are
 * one source to the reader.
 */
export function groupCitations(chunks: RetrievedChunk[], limit: number): { citations: Citation[]; sourceIndex: Map<string, number> } {
  const citations: Citation[] = [];
  const sourceIndex = new Map<string, number>();
  for (const chunk of chunks) {
    if (sourceIndex.has(chunk.url)) continue;
    if (citations.length >= limit) break;
    sourceIndex.set(chunk.url, citations.length + 1);
    const page = pageOf(chunk);
    citations.push({
      url: chunk.url,
      title: chunk.title,
      snippet: snippetOf(bodyOf(chunk)),
      score: Number(chunk.score.toFixed(6)),
      ...(page !== undefined ? { page } : {}),
    });
  }
  return { citations, sourceIndex };
}
