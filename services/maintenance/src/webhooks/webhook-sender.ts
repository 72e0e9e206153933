import { assertUrlAllowed, guardedLookup, type AddressPolicy } from '@kbflow/net';
import { Agent, request } from 'undici';

/** What one POST to a receiver came to. */
export interface SendResult {
  /** The receiver's status, when it answered. */
  statusCode?: number;
  error?: string;
  /** True when trying again cannot help (the URL resolves to a refused address). */
  permanent?: boolean;
  durationMs: number;
}

export interface WebhookSenderOptions {
  /** KBFLOW_ALLOW_PRIVATE_NETWORKS: receivers on private, loopback or link-local addresses. */
  allowPrivateNetworks: boolean;
  /** KBFLOW_WEBHOOK_TIMEOUT_MS: the whole attempt, connect to last byte. */
  timeoutMs: number;
  addressPolicy?: AddressPolicy;
}

/** A receiver's answer body is read up to this much, then dropped: only its status counts. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs webhook deliveries. The connector resolves the receiver's name and
 * refuses a private, loopback, link-local or metadata address (the
 * scraper's guard, `@kbflow/net`) at every connection, so a name that
 * changed its DNS since registration is refused too. Redirects are not
 * followed (undici's `request` never does): a 3xx is a failed attempt.
 */
export class WebhookSender {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly opts: WebhookSenderOptions;

  constructor(opts: WebhookSenderOptions) {
    this.timeoutMs = opts.timeoutMs;
    this.opts = opts;
    this.agent = new Agent({
      connect: { lookup: guardedLookup(opts.allowPrivateNetworks, opts.addressPolicy), timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      // A receiver is called once in a while: no connection is worth keeping long.
      keepAliveTimeout: 4000,
    });
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      // An address literal never reaches the connector's lookup: checked here.
      assertUrlAllowed(new URL(url), this.opts.allowPrivateNetworks, this.opts.addressPolicy);
      const res = await request(url, { dispatcher: this.agent, method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      await res.body.dump({ limit: MAX_RESPONSE_BYTES }).catch(() => undefined);
      const statusCode = res.statusCode;
      if (statusCode >= 200 && statusCode < 300) return { statusCode, durationMs: elapsed() };
      const error = statusCode >= 300 && statusCode < 400 ? `answered ${statusCode}: redirects are not followed` : `answered ${statusCode}`;
      return { statusCode, error, durationMs: elapsed() };
    } catch (error) {
      const err = error as Error & { code?: string };
      if (err.code === 'blocked_address') return { error: err.message, permanent: true, durationMs: elapsed() };
      const reason =
        err.name === 'TimeoutError' || err.name === 'AbortError' ? `no answer within ${this.timeoutMs} ms` : `${err.code ?? err.name}: ${err.message}`;
      return { error: reason, durationMs: elapsed() };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
