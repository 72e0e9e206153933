import { describe, expect, it } from '@jest/globals';

import { isSameOrigin, normalizeUrl } from './url.ts';

describe('normalizeUrl', () => {
  it('resolves a relative link against the base and drops the fragment', () => {
    expect(normalizeUrl('../library/os.html#os.walk', 'https://docs.python.org/3.11/tutorial/index.html')).toBe('https://docs.python.org/3.11/library/os.html');
  });

  it('lower-cases scheme and host and removes default ports, keeping other ports', () => {
    expect(normalizeUrl('HTTPS://Docs.Python.ORG:443/3/')).toBe('https://docs.python.org/3/');
    expect(normalizeUrl('http://example.com:80/a')).toBe('http://example.com/a');
    expect(normalizeUrl('http://example.com:8080/a')).toBe('http://example.com:8080/a');
  });

  it('removes utm_* and click-id tracking parameters and sorts the rest by name', () => {
    expect(normalizeUrl('https://example.com/p?z=1&utm_source=news&a=2&fbclid=abc&UTM_Medium=x&gclid=9')).toBe('https://example.com/p?a=2&z=1');
  });

  it('keeps repeated parameters in their original relative order', () => {
    expect(normalizeUrl('https://example.com/p?b=2&a=2&b=1&a=1')).toBe('https://example.com/p?a=2&a=1&b=2&b=1');
  });

  it('keeps encoded separators inside a value encoded, so the query means the same', () => {
    expect(normalizeUrl('https://example.com/search?q=a%26b&lang=en')).toBe('https://example.com/search?lang=en&q=a%26b');
  });

  it('drops a query that only had tracking parameters, and a bare "?"', () => {
    expect(normalizeUrl('https://example.com/a?utm_campaign=x')).toBe('https://example.com/a');
    expect(normalizeUrl('https://example.com/a?')).toBe('https://example.com/a');
  });

  it('keeps trailing slashes as written and always gives the root path as "/"', () => {
    expect(normalizeUrl('https://example.com/docs')).toBe('https://example.com/docs');
    expect(normalizeUrl('https://example.com/docs/')).toBe('https://example.com/docs/');
    expect(normalizeUrl('https://example.com')).toBe('https://example.com/');
    expect(normalizeUrl('https://example.com/')).toBe('https://example.com/');
  });

  it('does not strip index.html: documents are keyed by URL', () => {
    expect(normalizeUrl('https://example.com/docs/index.html')).toBe('https://example.com/docs/index.html');
  });

  it('resolves dot segments and gives each percent-escape one spelling', () => {
    expect(normalizeUrl('https://example.com/a/./b/../c%7euser/%c3%a9')).toBe('https://example.com/a/c~user/%C3%A9');
  });

  it('drops credentials and a trailing dot on the host', () => {
    expect(normalizeUrl('https://user:secret@example.com./a')).toBe('https://example.com/a');
  });

  it('resolves a protocol-relative link against the base scheme', () => {
    expect(normalizeUrl('//cdn.example.com/x.html', 'https://example.com/')).toBe('https://cdn.example.com/x.html');
  });

  it('gives null for non-http(s) schemes, malformed input and relative links without a base', () => {
    for (const raw of [
      'mailto:docs@python.org',
      'javascript:void(0)',
      'data:text/html,<p>x</p>',
      'tel:+123',
      'ftp://example.com/file',
      'file:///etc/passwd',
      'http://',
      'https://exa mple.com/',
      '',
      '../relative.html',
    ]) {
      expect([raw, normalizeUrl(raw)]).toEqual([raw, null]);
    }
    expect(normalizeUrl('mailto:x@example.com', 'https://example.com/')).toBeNull();
    expect(normalizeUrl('page.html', 'not a url')).toBeNull();
  });

  it('resolves an empty href to the page it is on', () => {
    expect(normalizeUrl('', 'https://example.com/a/b.html?x=1#top')).toBe('https://example.com/a/b.html?x=1');
  });

  it('is idempotent', () => {
    const once = normalizeUrl('HTTP://Example.com:80/a/../b/?utm_x=1&b=2&a=%7e#f');
    expect(once).toBe('http://example.com/b/?a=~&b=2');
    expect(normalizeUrl(once!)).toBe(once);
  });
});

describe('isSameOrigin', () => {
  it('compares scheme, host and port, treating default ports as implied', () => {
    expect(isSameOrigin('https://docs.python.org/3/a.html', 'https://DOCS.python.org:443/b')).toBe(true);
    expect(isSameOrigin('https://docs.python.org/', 'http://docs.python.org/')).toBe(false);
    expect(isSameOrigin('https://docs.python.org/', 'https://www.python.org/')).toBe(false);
    expect(isSameOrigin('http://localhost:8080/', 'http://localhost:8081/')).toBe(false);
  });

  it('is false for unparseable or non-http(s) URLs', () => {
    expect(isSameOrigin('not a url', 'not a url')).toBe(false);
    expect(isSameOrigin('file:///a', 'file:///a')).toBe(false);
  });
});
