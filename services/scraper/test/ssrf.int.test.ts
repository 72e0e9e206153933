// The scraper's engines refuse private, loopback, link-local and metadata
// addresses: as literals, after DNS resolution, and on every redirect hop,
// with a PermanentError `blocked_address` that says why.
//
// Redirects need a first hop that is allowed, i.e. a public address, which
// cannot be served on a machine without a network. So the redirect tests use
// the fetchers' address-policy seam: the resolver maps `public.test` to
// 127.0.0.2, and the classifier counts exactly that one address as public
// (everything else is classified for real). The site behind 127.0.0.2 then
// redirects to 127.0.0.1, 169.254.169.254, 10.x, ::1 or a name resolving to
// loopback, and the second hop must be refused. A "secret" server on
// 127.0.0.1 counts requests: a refusal that still reached it is a failure.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PermanentError } from '@kbflow/errors';
import { isPublicAddress, type AddressPolicy, type Resolver } from '@kbflow/net';
import { BrowserFetcher } from '../src/fetchers/browser-fetcher.ts';
import type { PageFetcher } from '../src/fetchers/fetched-page.ts';
import { HttpFetcher } from '../src/fetchers/http-fetcher.ts';

const STAND_IN_PUBLIC = '127.0.0.2';
const NAMES: Record<string, string> = {
  'public.test': STAND_IN_PUBLIC,
  'internal.test': '127.0.0.1',
  'metadata.test': '169.254.169.254',
  'ten.test': '10.0.0.7',
};

const resolve: Resolver = (hostname, options, callback) => {
  const address = NAMES[hostname];
  if (address) return callback(null, [{ address, family: 4 }]);
  dnsLookup(hostname, options, (err, addresses) => callback(err, (addresses ?? []) as LookupAddress[]));
};
const policy: AddressPolicy = { resolve, isPublic: (address) => address === STAND_IN_PUBLIC || isPublicAddress(address) };

/** A name other than localhost that /etc/hosts maps to loopback (refused only after resolution). */
function loopbackHostsName(): string | undefined {
  try {
    for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
      const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (!address || !/^127\.|^::1$/.test(address)) continue;
      const name = names.find((n) => n !== 'localhost' && !n.endsWith('.localhost') && !n.includes('localhost'));
      if (name) return name;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

let secretHits = 0;
let publicHits = 0;
let secret: Server;
let site: Server;
let S: number;
let P: number;

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((r) => server.listen(0, host, r));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  secret = createServer((_req, res) => {
    secretHits++;
    // CORS allows any page to read it: only the guard stands between a page's script and this.
    res
      .writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' })
      .end('<html><body><main><h1>SECRET</h1><p>instance credentials</p></main></body></html>');
  });
  S = await listen(secret, '127.0.0.1');
  const redirects: Record<string, string> = {
    '/to-loopback': 'http://127.0.0.1:{S}/secret',
    '/to-localhost': 'http://localhost:{S}/secret',
    '/to-metadata': 'http://169.254.169.254/latest/meta-data',
    '/to-ten': 'http://10.0.0.5/',
    '/to-v6-loopback': 'http://[::1]:{S}/secret',
    '/to-name-resolving-to-loopback': 'http://internal.test:{S}/secret',
    '/to-name-resolving-to-metadata': 'http://metadata.test/latest/meta-data',
    '/to-public-again': 'http://public.test:{P}/',
  };
  site = createServer((req, res) => {
    publicHits++;
    const target = redirects[req.url ?? ''];
    if (target) return res.writeHead(302, { location: target.replace('{S}', String(S)).replace('{P}', String(P)) }).end();
    if (req.url === '/js-fetch') {
      // A page whose script reads a loopback URL into the DOM: the browser must not get it.
      return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body><main><h1>Public page</h1><p id="out">waiting</p></main><script>
          fetch('http://127.0.0.1:${S}/secret').then((r) => r.text()).then((t) => { document.getElementById('out').textContent = t; })
            .catch(() => { document.getElementById('out').textContent = 'blocked'; });
        </script></body></html>`);
    }
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<html><head><title>Public</title></head><body><main><h1>Public page</h1><p>Nothing secret here.</p></main></body></html>');
  });
  P = await listen(site, STAND_IN_PUBLIC);
});

afterAll(async () => {
  await new Promise((r) => secret.close(r));
  await new Promise((r) => site.close(r));
});

/** Fetches and returns the refusal; fails the test when the fetch succeeds or fails otherwise. */
async function refusal(fetcher: PageFetcher, url: string): Promise<PermanentError> {
  const before = secretHits;
  const error = await fetcher.fetch(url).then(
    (page) => new Error(`fetched ${page.finalUrl} (${page.status}) instead of refusing`),
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(PermanentError);
  expect((error as PermanentError).code).toBe('blocked_address');
  expect((error as PermanentError).retryable).toBe(false);
  expect(error.message).toMatch(/^refusing \S+: it resolves to \S+, a private, loopback, link-local or metadata address$/);
  expect(secretHits).toBe(before);
  return error as PermanentError;
}

const common = { maxBytes: 1_000_000, timeoutMs: 15_000, userAgent: 'kbflow-test' };
const engines: [string, (allowPrivateNetworks: boolean, addressPolicy?: AddressPolicy) => PageFetcher][] = [
  [
    'HttpFetcher',
    (allowPrivateNetworks, addressPolicy) => new HttpFetcher({ ...common, maxRedirects: 5, allowPrivateNetworks, ...(addressPolicy ? { addressPolicy } : {}) }),
  ],
  [
    'BrowserFetcher',
    (allowPrivateNetworks, addressPolicy) =>
      new BrowserFetcher({
        ...common,
        executablePath: process.env.KBFLOW_CHROMIUM_PATH ?? '/usr/bin/chromium',
        allowPrivateNetworks,
        ...(addressPolicy ? { addressPolicy } : {}),
      }),
  ],
];

describe.each(engines)('%s with private networks refused', (_engine, make) => {
  let real: PageFetcher;
  let seamed: PageFetcher;

  beforeAll(() => {
    real = make(false);
    seamed = make(false, policy);
  });

  afterAll(async () => {
    await real.close();
    await seamed.close();
  });

  it.each([
    ['loopback', () => `http://127.0.0.1:${S}/secret`, '127.0.0.1'],
    ['localhost', () => `http://localhost:${S}/secret`, '127.0.0.1'],
    ['a 10.x address', () => 'http://10.1.2.3/', '10.1.2.3'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data', '169.254.169.254'],
    ['IPv6 loopback', () => `http://[::1]:${S}/secret`, '::1'],
    ['IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${S}/secret`, '::ffff:7f00:1'],
    ['the unspecified address', () => `http://0.0.0.0:${S}/secret`, '0.0.0.0'],
    ['loopback written as a decimal number', () => `http://2130706433:${S}/secret`, '127.0.0.1'],
    ['loopback written in hex', () => `http://0x7f.1:${S}/secret`, '127.0.0.1'],
  ])(
    'refuses %s',
    async (_label, url, address) => {
      const error = await refusal(real, url());
      expect(error.message).toContain(`resolves to ${address}`);
    },
    30_000,
  );

  const hostsName = loopbackHostsName();
  (hostsName ? it : it.skip)(
    `refuses a name that only DNS (/etc/hosts: ${hostsName}) reveals as loopback`,
    async () => {
      const error = await refusal(real, `http://${hostsName}:${S}/secret`);
      expect(error.message).toMatch(new RegExp(`^refusing ${hostsName}: it resolves to (127\\.|::1)`));
    },
    30_000,
  );

  it('fetches the stand-in public site (the first hop of the redirect cases is really allowed)', async () => {
    const page = await seamed.fetch(`http://public.test:${P}/`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Nothing secret here.');
    const again = await seamed.fetch(`http://public.test:${P}/to-public-again`);
    expect(again.html).toContain('Nothing secret here.');
    expect(again.finalUrl).toBe(`http://public.test:${P}/`);
  }, 30_000);

  it.each([
    ['/to-loopback', '127.0.0.1'],
    ['/to-localhost', '127.0.0.1'],
    ['/to-metadata', '169.254.169.254'],
    ['/to-ten', '10.0.0.5'],
    ['/to-v6-loopback', '::1'],
    ['/to-name-resolving-to-loopback', '127.0.0.1'],
    ['/to-name-resolving-to-metadata', '169.254.169.254'],
  ])(
    'follows a public page redirecting (%s) and refuses the second hop',
    async (path, address) => {
      const before = publicHits;
      const error = await refusal(seamed, `http://public.test:${P}${path}`);
      expect(publicHits).toBe(before + 1);
      expect(error.message).toContain(`resolves to ${address}`);
    },
    30_000,
  );

  it('refuses a name that resolves to a private address before connecting', async () => {
    const error = await refusal(seamed, 'http://ten.test/');
    expect(error.message).toBe('refusing ten.test: it resolves to 10.0.0.7, a private, loopback, link-local or metadata address');
  }, 30_000);

  it('refuses it over HTTPS too (the browser asks its proxy for a CONNECT tunnel)', async () => {
    const error = await refusal(seamed, `https://internal.test:${S}/secret`);
    expect(error.message).toBe('refusing internal.test: it resolves to 127.0.0.1, a private, loopback, link-local or metadata address');
  }, 30_000);
});

describe('BrowserFetcher subresources', () => {
  const chromium = process.env.KBFLOW_CHROMIUM_PATH ?? '/usr/bin/chromium';

  it("keeps a page's own script from reading a loopback URL, and still returns the page", async () => {
    const browser = new BrowserFetcher({ ...common, executablePath: chromium, allowPrivateNetworks: false, addressPolicy: policy });
    try {
      const before = secretHits;
      const page = await browser.fetch(`http://public.test:${P}/js-fetch`);
      expect(page.html).toContain('Public page');
      expect(page.html).toContain('<p id="out">blocked</p>');
      expect(page.html).not.toContain('SECRET');
      expect(secretHits).toBe(before);
    } finally {
      await browser.close();
    }
  }, 30_000);

  it('lets the same script read it when private networks are allowed (the proxy forwards subresources)', async () => {
    const browser = new BrowserFetcher({ ...common, executablePath: chromium, allowPrivateNetworks: true, addressPolicy: policy });
    try {
      const page = await browser.fetch(`http://public.test:${P}/js-fetch`);
      expect(page.html).toContain('SECRET');
    } finally {
      await browser.close();
    }
  }, 30_000);
});

describe.each(engines)('%s with private networks allowed (the operator opted in, as tests do)', (_engine, make) => {
  it('fetches loopback, directly and through a redirect, so the refusals above come from the guard', async () => {
    const fetcher = make(true);
    try {
      const before = secretHits;
      const page = await fetcher.fetch(`http://127.0.0.1:${S}/secret`);
      expect(page.html).toContain('SECRET');
      // (The browser asks for /favicon.ico as well.)
      expect(secretHits).toBeGreaterThan(before);
      const viaRedirect = await fetcher.fetch(`http://${STAND_IN_PUBLIC}:${P}/to-loopback`);
      expect(viaRedirect.html).toContain('SECRET');
      expect(viaRedirect.finalUrl).toBe(`http://127.0.0.1:${S}/secret`);
    } finally {
      await fetcher.close();
    }
  }, 30_000);
});
