import { KbflowClient } from '@kbflow/client';

/** A JSON response of the API, as tests read it. */
export interface ApiResponse {
  status: number;
  json: any;
}

export interface ApiClient {
  /** Sends a request with the key as a Bearer token, `body` as JSON; any status comes back. */
  call: (method: string, route: string, body?: unknown) => Promise<ApiResponse>;
  /**
   * Polls `GET /v1/tasks/:id` until the task is completed or failed, and
   * returns its status; throws with the last progress past the deadline.
   */
  waitForTask: (taskId: string, timeoutMs: number, opts?: { everyMs?: number; onPoll?: () => void }) => Promise<any>;
  /** The typed client itself, for tests that use it directly. */
  client: () => KbflowClient;
}

/**
 * A client of a running API for end-to-end tests: a thin layer over
 * `@kbflow/client`, with retries off so a test sees every 429 and 503 it
 * provokes. The base URL is read on each call, so a client can be made
 * before the stack starts.
 */
export function apiClient(baseUrl: () => string, key: string): ApiClient {
  let cached: { url: string; client: KbflowClient } | undefined;
  const client = () => {
    const url = baseUrl();
    if (cached?.url !== url) cached = { url, client: new KbflowClient({ baseUrl: url, apiKey: key, retry: { attempts: 1 } }) };
    return cached.client;
  };
  const call = async (method: string, route: string, body?: unknown): Promise<ApiResponse> => {
    const res = await client().request(method, route, body ? { json: body } : {});
    return { status: res.status, json: res.json };
  };
  const waitForTask: ApiClient['waitForTask'] = (taskId, timeoutMs, opts = {}) =>
    client().waitForTask(taskId, { timeoutMs, intervalMs: opts.everyMs ?? 250, ...(opts.onPoll ? { onProgress: () => opts.onPoll!() } : {}) });
  return { call, waitForTask, client };
}
