/** Ids of the elements single-page-app frameworks render into; empty until the bundle runs. */
const MOUNT_POINT_IDS: ReadonlySet<string> = new Set(['root', 'app', '__next', '__nuxt', '___gatsby', 'svelte', 'react-root']);

export const JS_REQUIRED_RE =
  /\b(?:enable|activate|turn on|allow)\b[^.]{0,40}\bjavascript\b|\bjavascript\b[^.]{0,40}\b(?:required|disabled|needed|turned off)\b|\brequires?\b[^.]{0,20}\bjavascript\b/i;

/** Script types that carry data, not code (structured data, import maps, templates). */
export const DATA_SCRIPT_TYPE_RE = /json|importmap|template|text\/(?!javascript)/i;

/**
 * Below this much visible text in the whole `<body>` (navigation and footer
 * included), a page with any script is taken to render client-side: a shell
 * with a spinner or a "Loading..." line is all a crawler sees of such a
 * page. The whole body counts, not the main content, because short static
 * pages with scripts (a docs stub page, an index of letters) keep plenty of
 * chrome around a few words of content.
 */
export const SHELL_PAGE_CHARS = 200;

/**
 * An empty mount point or a `<noscript>` asking for JavaScript is strong
 * evidence, so main content up to this long still counts as a shell (a
 * server-rendered intro around client-rendered content); past it the page
 * has its content and the JavaScript is an extra (comments, search).
 */
const SHELL_CONTENT_CHARS = 1000;

/** What the raw page says about needing JavaScript, gathered while it is parsed (see `scanHtml`). */
export interface JsSignals {
  scripts: number;
  /** The whole `<body>` shows fewer than 200 non-whitespace characters. */
  sparseBody: boolean;
  emptyMountPoint: boolean;
  noscriptAsksForJs: boolean;
}

/**
 * Whether the page looks rendered by JavaScript, given its signals and the
 * length of the main-content text extracted without running scripts.
 */
export function looksJsRendered(signals: JsSignals, contentChars: number): boolean {
  if ((signals.emptyMountPoint || signals.noscriptAsksForJs) && contentChars < SHELL_CONTENT_CHARS) return true;
  return signals.scripts > 0 && signals.sparseBody;
}

/** Whether an element is a single-page app's mount point, from its name and attributes. */
export function isMountPoint(name: string, attrs: Record<string, string>): boolean {
  const id = attrs.id;
  return (id !== undefined && MOUNT_POINT_IDS.has(id)) || name === 'app-root' || attrs['data-reactroot'] !== undefined;
}
