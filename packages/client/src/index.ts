export {
  KbflowClient,
  createKbflowClient,
  type KbflowClientOptions,
  type WriteOptions,
  type WaitOptions,
  type RawResponse,
  type RawRequestOptions,
  type TaskStatus,
  type QueryAnswer,
  type SearchResults,
  type CrawlRequest,
  type QueryRequest,
  type SearchRequest,
} from './client.ts';
export { KbflowApiError, type ApiErrorBody } from './errors.ts';
export { retryingFetch, retryAfterMs, type RetryOptions } from './retrying-fetch.ts';
export { readQueryStream, type QueryStreamEvent } from './sse.ts';
export type { paths, components, operations } from './generated/openapi.ts';
