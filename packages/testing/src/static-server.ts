import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';

/** One request the server answered. */
export interface StaticRequest {
  path: string;
  /** Chromium sends Sec-Fetch-* headers, undici does not. */
  fromBrowser: boolean;
  /** When it arrived and when its answer was sent (`Date.now()`). */
  at: number;
  done?: number;
  userAgent?: string | undefined;
  /** The status answered: 200, 304, 404... (0 until answered). */
  status: number;
  /** True when the request carried If-None-Match or If-Modified-Since. */
  conditional: boolean;
  /** Body bytes sent (0 for a 304). */
  bytes: number;
}

export interface StaticServer {
  url: string;
  /** Every requested path, in order. */
  requests: string[];
  /** The same requests with who made them, when, and what they got. */
  log: StaticRequest[];
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
  /**
   * Serve `ETag` and `Last-Modified`, and answer a matching
   * If-None-Match / If-Modified-Since with 304 (default true). Files: the
   * ETag is their mtime and size (as nginx makes it), so an edit changes
   * it; inline routes: a hash of their HTML.
   */
  validators?: boolean;
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
 * RFC 9110 §13.1: If-None-Match, when present, decides alone (a list, or
 * `*`, compared weakly); otherwise If-Modified-Since, at second resolution.
 */
function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    const strip = (t: string) => t.trim().replace(/^W\//, '');
    return inm.trim() === '*' || inm.split(',').some((t) => strip(t) === strip(etag));
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
}

/**
 * Serves a directory on 127.0.0.1 (a stand-in website for crawl tests).
 * `routes` adds or overrides paths with inline HTML; it is read on every
 * request, so a test may edit, add or delete routes between crawls (and
 * files under `root`). Records every request so tests can assert what was
 * fetched, when, how many at once, and whether it was answered 304.
 */
export async function startStaticServer(root: string, routes: Record<string, string> = {}, opts: StaticServerOptions = {}): Promise<StaticServer> {
  const validators = opts.validators ?? true;
  const started = new Date();
  const requests: string[] = [];
  const log: StaticRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(pathname);
    const entry: StaticRequest = {
      path: pathname,
      fromBrowser: req.headers['sec-fetch-dest'] !== undefined,
      at: Date.now(),
      userAgent: req.headers['user-agent'],
      status: 0,
      conditional: req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined,
      bytes: 0,
    };
    log.push(entry);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => {
      inFlight--;
      entry.done = Date.now();
    });
    if (opts.delayMs) setTimeout(() => answerRequest(req, res, pathname, entry), opts.delayMs);
    else answerRequest(req, res, pathname, entry);
  });
  const answerRequest = (req: IncomingMessage, res: ServerResponse, pathname: string, entry: StaticRequest) => {
    const answer = (status: number, headers: Record<string, string | number>, body?: string | Buffer) => {
      entry.status = status;
      res.writeHead(status, headers);
      if (body !== undefined) entry.bytes = Buffer.byteLength(body);
      res.end(body);
    };
    const own = opts.respond?.(pathname);
    if (own) return answer(own.status ?? 200, own.headers ?? {}, own.body ?? '');
    const inline = routes[pathname];
    if (inline !== undefined) {
      const etag = `"${createHash('sha1').update(inline).digest('hex').slice(0, 20)}"`;
      const headers: Record<string, string> = validators ? { etag, 'last-modified': started.toUTCString() } : {};
      if (validators && notModified(req, etag, started)) return answer(304, headers);
      return answer(200, { 'content-type': 'text/html; charset=utf-8', ...headers }, inline);
    }
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(root)) return answer(403, {});
    stat(file)
      .then((s) => {
        if (!s.isFile()) throw new Error('not a file');
        const etag = `"${Math.floor(s.mtimeMs).toString(16)}-${s.size.toString(16)}"`;
        const headers: Record<string, string> = validators ? { etag, 'last-modified': s.mtime.toUTCString() } : {};
        if (validators && notModified(req, etag, s.mtime)) return answer(304, headers);
        entry.status = 200;
        entry.bytes = s.size;
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': s.size, ...headers });
        createReadStream(file).pipe(res);
      })
      .catch(() => answer(404, { 'content-type': 'text/plain' }, 'not found'));
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
