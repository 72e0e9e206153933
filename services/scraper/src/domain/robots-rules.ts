import robotsParserModule from 'robots-parser';

// robots-parser is CommonJS (`module.exports = function`), which Node hands
// to an ESM import as the default; its types declare an ES default export,
// which TypeScript's node16 resolution then places on `.default`.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;

/**
 * What a host's robots.txt fetch came to, in the form kept in Redis:
 * RFC 9309 section 2.3.1 decides by status. `rules` is a 2xx body;
 * `allow-all` a 4xx ("unavailable": the crawler may access anything);
 * `unreachable` a 5xx, a 429 or no answer (treated as a complete disallow
 * until it is read again). 429 is a 4xx but says "too many requests", not
 * "no robots.txt": reading it as allow-all would crawl a site that is
 * asking us to slow down, so it counts as unreachable (Google does the same).
 */
export type RobotsFile = { kind: 'rules'; body: string } | { kind: 'allow-all' } | { kind: 'unreachable'; reason: string };

/** Maps a robots.txt response to a {@link RobotsFile}. */
export function robotsFileOf(status: number, body: string): RobotsFile {
  if (status >= 200 && status < 300) return { kind: 'rules', body };
  if (status === 429) return { kind: 'unreachable', reason: `robots.txt answered ${status}` };
  if (status >= 400 && status < 500) return { kind: 'allow-all' };
  return { kind: 'unreachable', reason: `robots.txt answered ${status}` };
}

/**
 * The product token robots.txt groups are matched against: the user agent's
 * first word, lowercased, without its version (`kbflow/0.1 (+https://…)` →
 * `kbflow`), as RFC 9309 section 2.2.1 describes.
 */
export function productToken(userAgent: string): string {
  const first = userAgent.trim().split(/[\s/]/, 1)[0] ?? '';
  return first.toLowerCase().replace(/[^a-z_-]/g, '') || '*';
}

/** One host's robots.txt, read for kbflow's product token. */
export class RobotsRules {
  readonly file: RobotsFile;
  private readonly token: string;
  private readonly robots: ReturnType<typeof robotsParser> | undefined;

  constructor(origin: string, file: RobotsFile, userAgent: string) {
    this.file = file;
    this.token = productToken(userAgent);
    this.robots = file.kind === 'rules' ? robotsParser(`${origin}/robots.txt`, file.body) : undefined;
  }

  /** True when kbflow may fetch `url`; an unreachable robots.txt allows nothing. */
  isAllowed(url: string): boolean {
    if (this.file.kind === 'unreachable') return false;
    if (!this.robots) return true;
    // Undefined: the URL is not on this robots.txt's origin, which it does not govern.
    return this.robots.isAllowed(url, this.token) ?? true;
  }

  /** The group's Crawl-delay in milliseconds (a floor of the host's delay), if any. */
  crawlDelayMs(): number | undefined {
    const seconds = this.robots?.getCrawlDelay(this.token);
    return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : undefined;
  }

  /** `Sitemap:` lines, absolute URLs as written. */
  sitemaps(): string[] {
    return this.robots?.getSitemaps() ?? [];
  }
}
