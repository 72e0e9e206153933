// Chromium runs untrusted page JavaScript beside the scraper, which holds
// every tenant's credentials (issue 14 item 4). These tests check, on the
// real Chromium, that a non-root scraper's renderers run sandboxed (each in
// a user namespace of its own), what `auto` and `on` do as root, and that a
// page gets no UDP of its own over WebRTC (which would go around the guarded
// proxy): a STUN server on a local UDP port must see nothing.
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium as playwright } from 'playwright-core';
import { BrowserFetcher } from '../src/fetchers/browser-fetcher.ts';

const run = promisify(execFile);
const CHROMIUM = process.env.KBFLOW_CHROMIUM_PATH ?? '/usr/bin/chromium';
const PROBE = path.join(import.meta.dirname, 'support', 'sandbox-probe.ts');
const ROOT = process.getuid?.() === 0;
/** The unprivileged user the probe runs as when the suite runs as root (nobody). */
const UNPRIVILEGED = 65534;

let udp: Socket;
let stunPackets = 0;
let server: Server;
let base: string;
let home: string;

const webrtcPage = (stunPort: number) =>
  `<html><head><title>webrtc</title></head><body><p id="out">waiting</p><script>
const pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.1:${stunPort}' }] });
pc.createDataChannel('probe');
const seen = [];
pc.onicecandidate = (e) => { if (e.candidate) { seen.push(e.candidate.type); document.getElementById('out').textContent = 'candidates:' + seen.join(','); } };
pc.createOffer().then((offer) => pc.setLocalDescription(offer));
</script></body></html>`;

beforeAll(async () => {
  udp = createSocket('udp4');
  udp.on('message', () => stunPackets++);
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const stunPort = udp.address().port;
  server = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(req.url === '/webrtc' ? webrtcPage(stunPort) : '<html><head><title>plain page</title></head><body><p>hello</p></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Chromium wants a writable HOME; the unprivileged user has none.
  home = mkdtempSync(path.join(tmpdir(), 'kbflow-sandbox-home-'));
  chmodSync(home, 0o755);
  if (ROOT) chownSync(home, UNPRIVILEGED, UNPRIVILEGED);
});

afterAll(async () => {
  udp?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (home) rmSync(home, { recursive: true, force: true });
});

interface Probe {
  ok: boolean;
  code?: string;
  message?: string;
  title?: string;
  sandboxed?: boolean;
  own?: string;
  renderers?: string[];
}

/** The probe in a process of its own, as a non-root user (via setpriv when this runs as root). */
async function probe(sandbox: 'on' | 'off'): Promise<Probe> {
  const node = [process.execPath, PROBE, `${base}/`, sandbox];
  const [file, ...args] = ROOT ? ['setpriv', `--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', ...node] : node;
  const { stdout } = await run(file!, args, { env: { ...process.env, HOME: home }, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Probe;
}

describe('the browser sandbox', () => {
  it("a non-root scraper's renderers each run in a user namespace of their own", async () => {
    const result = await probe('on');
    expect(result).toEqual(expect.objectContaining({ ok: true, title: 'plain page', sandboxed: true }));
    expect(result.renderers!.length).toBeGreaterThan(0);
    expect(result.renderers!.filter((ns) => ns === result.own)).toEqual([]);
  }, 90_000);

  it("with KBFLOW_BROWSER_SANDBOX=off the renderers share the scraper's namespace (so the check above can fail)", async () => {
    const result = await probe('off');
    expect(result).toEqual(expect.objectContaining({ ok: true, sandboxed: false }));
    expect(result.renderers!.length).toBeGreaterThan(0);
    expect(result.renderers!.every((ns) => ns === result.own)).toBe(true);
  }, 90_000);

  it(
    ROOT ? 'as root, auto runs without the sandbox and on refuses, naming the variable' : 'as a non-root user, auto runs sandboxed',
    async () => {
      const common = { executablePath: CHROMIUM, allowPrivateNetworks: true, timeoutMs: 20_000, maxBytes: 5 * 1024 * 1024, userAgent: 'kbflow-test' };
      const auto = new BrowserFetcher({ ...common, sandbox: 'auto' });
      try {
        expect((await auto.fetch(`${base}/`)).html).toContain('plain page');
        expect(auto.sandboxed).toBe(!ROOT);
      } finally {
        await auto.close();
      }
      if (!ROOT) return;
      const on = new BrowserFetcher({ ...common, sandbox: 'on' });
      const error = await on.fetch(`${base}/`).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      await on.close();
      expect(error?.code).toBe('browser_sandbox');
      expect(error?.message).toContain('KBFLOW_BROWSER_SANDBOX=on');
    },
    90_000,
  );
});

describe('WebRTC', () => {
  it('a Chromium without these flags does send STUN over UDP for this page (the control)', async () => {
    const browser = await playwright.launch({ executablePath: CHROMIUM, chromiumSandbox: false, args: ['--disable-gpu'] });
    try {
      const before = stunPackets;
      const page = await browser.newPage();
      await page.goto(`${base}/webrtc`);
      // (Gathering itself never ends here: the STUN "server" never answers.)
      for (let waited = 0; stunPackets === before && waited < 15_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stunPackets).toBeGreaterThan(before);
      expect(await page.textContent('#out')).toContain('host');
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('gives a page fetched by the browser engine no UDP: no STUN packet, no host candidate', async () => {
    const fetcher = new BrowserFetcher({
      executablePath: CHROMIUM,
      sandbox: 'auto',
      allowPrivateNetworks: true,
      timeoutMs: 20_000,
      maxBytes: 5 * 1024 * 1024,
      userAgent: 'kbflow-test',
    });
    try {
      const before = stunPackets;
      const page = await fetcher.fetch(`${base}/webrtc`);
      // ICE gathering ends within the page's network-idle wait; a little longer for any straggling packet.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(page.html).not.toContain('host');
      expect(stunPackets).toBe(before);
    } finally {
      await fetcher.close();
    }
  }, 60_000);
});
