import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';

export interface StaticServer {
  url: string;
  /** Every requested path, in order. */
  requests: string[];
  /**
   * The same requests with who made them (Chromium sends Sec-Fetch-* headers,
   * undici does not), when they arrived and when their answer was sent
   * (`Date.now()`), and the user agent.
   */
  log: { path: string; fromBrowser: boolean; at: number; done?: number; userAgent?: string }[];
  /** Most requests this server was answering at one moment. */
  maxInFlight: () => number;
  close: () => Promise<void>;
}

/** An answer of a test's own: a status, headers and a body. */
export interface InlineResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface StaticServerOptions {
  /** Every answer waits this long first (a slow site, so requests overlap). */
  delayMs?: number;
  /** Answers a path itself (robots.txt, a sitemap, a 429) or, returning undefined, lets the routes and files answer. */
  respond?: (pathname: string) => InlineResponse | undefined;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves a directory on 127.0.0.1 (a stand-in website for crawl tests).
 * `routes` adds or overrides paths with inline HTML. Records every request
 * path so tests can assert what was fetched.
 */
export async function startStaticServer(root: string, routes: Record<string, string> = {}, opts: StaticServerOptions = {}): Promise<StaticServer> {
  const requests: string[] = [];
  const log: StaticServer['log'] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(pathname);
    const entry: StaticServer['log'][number] = { path: pathname, fromBrowser: req.headers['sec-fetch-dest'] !== undefined, at: Date.now(), userAgent: req.headers['user-agent'] };
    log.push(entry);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => {
      inFlight--;
      entry.done = Date.now();
    });
    if (opts.delayMs) setTimeout(() => answer(pathname, res), opts.delayMs);
    else answer(pathname, res);
  });
  const answer = (pathname: string, res: ServerResponse) => {
    const own = opts.respond?.(pathname);
    if (own) {
      res.writeHead(own.status ?? 200, own.headers ?? {});
      res.end(own.body ?? '');
      return;
    }
    const inline = routes[pathname];
    if (inline !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(inline);
      return;
    }
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    stat(file)
      .then((s) => {
        if (!s.isFile()) throw new Error('not a file');
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': s.size });
        createReadStream(file).pipe(res);
      })
      .catch(() => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    log,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
