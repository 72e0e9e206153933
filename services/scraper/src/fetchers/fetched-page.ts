import type { DocumentFormat } from '@kbflow/extraction';

/** What an engine returns for a URL. */
export interface FetchedPage {
  /** The URL after redirects; documents are stored under it. */
  finalUrl: string;
  status: number;
  contentType: string;
  html: string;
  engine: 'http' | 'browser';
  /** The body of a document link (PDF, DOCX, Markdown, text), read within the page cap; extracted by the engine router. */
  document?: { bytes: Uint8Array; format: DocumentFormat };
}

/** An engine that fetches pages. */
export interface PageFetcher {
  fetch(url: string): Promise<FetchedPage>;
  close(): Promise<void>;
}
