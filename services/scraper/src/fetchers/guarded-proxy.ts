import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isPermanent } from '@kbflow/errors';
import { assertUrlAllowed, guardedLookup, type AddressPolicy } from '@kbflow/net';

/** Set on the proxy's refusal, so the fetcher can tell it from a site's own 403. */
export const BLOCKED_HEADER = 'x-kbflow-blocked';

/** Hop-by-hop headers a forward proxy must not pass on. */
const HOP_BY_HOP = ['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade'];

/**
 * A forward proxy on 127.0.0.1 that every request of one browser context is
 * sent through, so the address guard sees every connection Chromium makes:
 * the navigation, each redirect hop (Playwright's request interception is
 * never called for redirects, so it cannot guard them), subresources, fetch
 * and XHR, and HTTPS/WebSocket tunnels (CONNECT). Each connection resolves
 * through {@link guardedLookup} and goes to the address that was checked.
 * Refusals answer 403 with {@link BLOCKED_HEADER} and are kept in `blocked`.
 */
export class GuardedProxy {
  /** The refusals so far, newest last. */
  readonly blocked: Error[] = [];
  private readonly allowPrivate: boolean;
  private readonly policy: AddressPolicy;
  private readonly server: Server;
  private readonly sockets = new Set<Socket | Duplex>();

  constructor(opts: { allowPrivateNetworks: boolean; addressPolicy?: AddressPolicy }) {
    this.allowPrivate = opts.allowPrivateNetworks;
    this.policy = opts.addressPolicy ?? {};
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => this.tunnel(req, client, head));
    this.server.on('connection', (socket: Socket) => this.track(socket));
  }

  /** Listens on a free loopback port; resolves with the proxy's URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** Stops listening and cuts every open connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket | Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Plain HTTP: the request line carries the absolute URL. */
  private forward(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('only http:// is proxied in absolute form');
      assertUrlAllowed(url, this.allowPrivate, this.policy);
    } catch (error) {
      this.refuse(error, (status, headers) => res.writeHead(status, headers).end());
      return;
    }
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const upstream = request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 80,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        lookup: guardedLookup(this.allowPrivate, this.policy) as never,
      },
      (answer) => {
        const raw: string[] = [];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          const name = answer.rawHeaders[i]!;
          if (!HOP_BY_HOP.includes(name.toLowerCase())) raw.push(name, answer.rawHeaders[i + 1]!);
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, raw);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) return void res.destroy();
      this.refuse(error, (status, headers) => res.writeHead(status, headers).end());
    });
    req.pipe(upstream);
  }

  /** HTTPS and WebSockets: `CONNECT host:port`, then bytes both ways. */
  private tunnel(req: IncomingMessage, client: Duplex, head: Buffer): void {
    this.track(client);
    const answer = (status: number, headers: Record<string, string>) =>
      client.end(
        `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Gateway'}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
    let url: URL;
    try {
      url = new URL(`https://${req.url ?? ''}`);
      assertUrlAllowed(url, this.allowPrivate, this.policy);
    } catch (error) {
      this.refuse(error, answer);
      return;
    }
    const upstream = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      lookup: guardedLookup(this.allowPrivate, this.policy) as never,
    });
    this.track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => (connected ? client.destroy() : this.refuse(error, answer)));
    client.on('error', () => upstream.destroy());
  }

  /** A guard refusal is a 403 that says why; anything else a plain 502. */
  private refuse(error: unknown, send: (status: number, headers: Record<string, string>) => void): void {
    if (isPermanent(error)) {
      this.blocked.push(error as Error);
      send(403, { [BLOCKED_HEADER]: (error as Error).message.replace(/[^\x20-\x7e]/g, '?'), 'content-length': '0' });
      return;
    }
    send(502, { 'content-length': '0' });
  }
}
