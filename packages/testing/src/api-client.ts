/** A JSON response of the API, as tests read it. */
export interface ApiResponse {
  status: number;
  json: any;
}

export interface ApiClient {
  /** Sends a request with the key as a Bearer token, `body` as JSON. */
  call: (method: string, route: string, body?: unknown) => Promise<ApiResponse>;
  /**
   * Polls `GET /v1/tasks/:id` until the task is completed or failed, and
   * returns its status; throws with the last progress past the deadline.
   */
  waitForTask: (taskId: string, timeoutMs: number, opts?: { everyMs?: number; onPoll?: () => void }) => Promise<any>;
}

/**
 * A client of a running API for end-to-end tests. The base URL is read on
 * each call, so a client can be made before the stack starts.
 */
export function apiClient(baseUrl: () => string, key: string): ApiClient {
  const call = async (method: string, route: string, body?: unknown): Promise<ApiResponse> => {
    const res = await fetch(`${baseUrl()}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: await res.json() };
  };
  const waitForTask: ApiClient['waitForTask'] = async (taskId, timeoutMs, opts = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      opts.onPoll?.();
      const { json } = await call('GET', `/v1/tasks/${taskId}`);
      if (json.state === 'completed' || json.state === 'failed') return json;
      if (Date.now() > deadline) throw new Error(`task ${taskId} still ${json.state} after ${timeoutMs} ms: ${JSON.stringify(json.progress)}`);
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 250));
    }
  };
  return { call, waitForTask };
}
