// Run by browser-sandbox.int.test.ts in a process of its own (as a non-root
// user when the test runs as root): fetches one page with the browser engine
// and prints, as one JSON line, whether the fetcher launched sandboxed and
// the user namespace of each of its renderers beside this process's own.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { BrowserFetcher, type BrowserSandbox } from '../../src/fetchers/browser-fetcher.ts';

const [url, sandbox] = process.argv.slice(2) as [string, BrowserSandbox];

/** The parent pid of `pid` (field 4 of /proc/<pid>/stat, after the parenthesised name). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function descendsFromMe(pid: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p && p > 1 && hops < 20; p = parentOf(p), hops++) if (p === process.pid) return true;
  return false;
}

const fetcher = new BrowserFetcher({
  executablePath: process.env.KBFLOW_CHROMIUM_PATH ?? '/usr/bin/chromium',
  sandbox,
  allowPrivateNetworks: true,
  timeoutMs: 20_000,
  maxBytes: 5 * 1024 * 1024,
  userAgent: 'kbflow-test',
});
/** Renderer processes by pid, with their user namespace, as seen by any scan so far. */
const seen = new Map<string, string>();
function scanRenderers(): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || seen.has(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('--type=renderer') && descendsFromMe(Number(entry)))
        seen.set(entry, readlinkSync(`/proc/${entry}/ns/user`));
    } catch {
      // The process ended while being read.
    }
  }
}

try {
  // Scanned while the page loads, not only after: the fetcher closes its
  // page when it returns, and on a loaded machine the renderer can be gone
  // by the time a single scan afterwards reads /proc.
  const scanning = setInterval(scanRenderers, 25);
  let page: Awaited<ReturnType<BrowserFetcher['fetch']>>;
  try {
    page = await fetcher.fetch(url);
  } finally {
    clearInterval(scanning);
  }
  scanRenderers();
  const renderers = [...seen.values()];
  console.log(
    JSON.stringify({
      ok: true,
      title: /<title>([^<]*)<\/title>/.exec(page.html)?.[1],
      sandboxed: fetcher.sandboxed,
      own: readlinkSync('/proc/self/ns/user'),
      renderers,
    }),
  );
} catch (error) {
  console.log(JSON.stringify({ ok: false, code: (error as { code?: string }).code, message: (error as Error).message }));
} finally {
  await fetcher.close();
}
