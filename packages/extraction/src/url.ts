// Hand-written on WHATWG URL rather than the normalize-url package: its query
// sorting decodes the whole query string (so `?q=a%26b` becomes `?q=a&b`, a
// different URL) and its root-slash handling depends on how the input was
// spelled, which would give one page two keys.

/** Query parameters that only track the visitor and never change the document. */
const TRACKING_PARAMS: ReadonlySet<string> = new Set([
  'fbclid',
  'gclid',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'msclkid',
  'yclid',
  'twclid',
  'igshid',
  'mc_cid',
  'mc_eid',
  '_ga',
  '_gl',
  '_hsenc',
  '_hsmi',
  '__hstc',
  '__hssc',
  '__hsfp',
  'mkt_tok',
  'oly_anon_id',
  'oly_enc_id',
  'vero_id',
  'vero_conv',
]);

const UNRESERVED_ESCAPE_RE = /%(2[dDeE]|3\d|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;
const ESCAPE_RE = /%[0-9a-fA-F]{2}/g;

function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('utm_') || TRACKING_PARAMS.has(lower);
}

function decodeQueryName(segment: string): string {
  const raw = segment.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * One spelling per escape: unreserved characters (`%7E` -> `~`) are decoded
 * and the remaining escapes upper-cased (RFC 3986, section 6.2.2).
 */
function normalizeEscapes(part: string): string {
  return part
    .replace(UNRESERVED_ESCAPE_RE, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)))
    .replace(ESCAPE_RE, (escape) => escape.toUpperCase());
}

/**
 * Drops tracking parameters and sorts the rest by name. Segments are kept
 * as written (no re-encoding through URLSearchParams, which would turn `%20`
 * into `+` and escape `/`); the sort is stable, so repeated names keep their
 * relative order, which servers may rely on.
 */
function normalizeQuery(search: string): string {
  if (search.length <= 1) return '';
  const kept = search
    .slice(1)
    .split('&')
    .filter((segment) => segment.length > 0 && !isTrackingParam(decodeQueryName(segment)))
    .map((segment) => ({ name: decodeQueryName(segment), segment: normalizeEscapes(segment) }));
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return kept.length === 0 ? '' : `?${kept.map((entry) => entry.segment).join('&')}`;
}

/**
 * Normalizes a link into the key a document is stored under.
 *
 * `raw` is resolved against `base` (when given), and the result must be an
 * absolute http(s) URL with a host; anything else (`mailto:`, `javascript:`,
 * `data:`, `tel:`, malformed input, a relative URL without a base) gives
 * `null`.
 *
 * Rules:
 * - scheme and host lower-cased, a trailing dot on the host dropped, default
 *   ports (`:80`, `:443`) removed, user and password removed;
 * - the fragment is dropped: it addresses a part of the same document;
 * - `utm_*` and other tracking parameters are removed, the remaining query
 *   parameters sorted by name, an empty query dropped;
 * - `.` and `..` path segments are resolved and percent-escapes put in one
 *   spelling;
 * - trailing slashes are kept exactly as written (`/docs` and `/docs/` stay
 *   two keys), and an empty path is always `/`. Servers treat the two
 *   spellings differently (one usually redirects, some answer 404), and the
 *   normalized URL is also the URL that gets fetched, so it must not be
 *   rewritten into one that may not exist;
 * - `index.html` is NOT removed: documents are keyed by URL, and
 *   `/a/index.html` and `/a/` are not guaranteed to be the same document.
 *
 * @example normalizeUrl('../b.html?utm_source=x&z=1&a=2#top', 'https://Docs.Example.com:443/a/') // 'https://docs.example.com/b.html?a=2&z=1'
 */
export function normalizeUrl(raw: string, base?: string): string | null {
  const trimmed = raw.trim();
  let url: URL;
  try {
    url = base === undefined ? new URL(trimmed) : new URL(trimmed, base);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname.length === 0) return null;
  url.username = '';
  url.password = '';
  url.hash = '';
  if (url.hostname.endsWith('.')) url.hostname = url.hostname.slice(0, -1);
  url.pathname = normalizeEscapes(url.pathname);
  url.search = normalizeQuery(url.search);
  return url.href;
}

/**
 * Whether two absolute URLs share an origin (scheme, host and port, default
 * ports included). `http` and `https`, and `www.` and bare hosts, are
 * different origins. Unparseable or non-http(s) URLs are never same-origin.
 */
export function isSameOrigin(a: string, b: string): boolean {
  const originA = httpOrigin(a);
  return originA !== null && originA === httpOrigin(b);
}

function httpOrigin(raw: string): string | null {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}
