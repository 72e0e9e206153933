/** What an engine returns for a URL. */
export interface FetchedPage {
  /** The URL after redirects; documents are stored under it. */
  finalUrl: string;
  status: number;
  contentType: string;
  html: string;
  engine: 'http' | 'browser';
}

/** An engine that fetches pages. */
export interface PageFetcher {
  fetch(url: string): Promise<FetchedPage>;
  close(): Promise<void>;
}
