import type { DocumentFormat } from '@kbflow/extraction';
import { PermanentError } from '@kbflow/errors';

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
  /** True when a conditional request was answered 304: no body was read. */
  notModified?: boolean;
  /** The response's `ETag` and `Last-Modified` (HTTP engine), stored for the next crawl's conditional request. */
  validators?: Validators;
}

/** HTTP validators of a stored page; either may be absent. */
export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

/** An engine that fetches pages. */
export interface PageFetcher {
  /** `conditional`: the stored page's validators, sent as If-None-Match / If-Modified-Since by engines that can (HTTP). */
  fetch(url: string, conditional?: Validators): Promise<FetchedPage>;
  close(): Promise<void>;
}

/** A final HTTP status (404, 410, other 4xx): the page fails for good, and the status tells a gone page from a broken one. */
export class HttpStatusError extends PermanentError {
  declare readonly status: number;

  constructor(url: string, httpStatus: number) {
    super('http_status', `${url} answered ${httpStatus}`, { status: httpStatus });
  }

  get httpStatus(): number {
    return this.status;
  }
}

/** The status of a page that is gone: 404 Not Found or 410 Gone. */
export function isGoneStatus(status: number | undefined): boolean {
  return status === 404 || status === 410;
}
