import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { extractPage } from './extract-page.ts';
import { isSameOrigin, normalizeUrl } from './url.ts';

/** The Python 3.11 docs beside the repository (`../shared/data`), never copied in. */
const CORPUS = path.resolve(import.meta.dirname, '../../../../shared/data/docs-corpus/python-3.11-html');
const DOCS = 'https://docs.python.org/3.11/';

function corpusPage(file: string): { html: string; url: string } {
  return { html: readFileSync(path.join(CORPUS, file), 'utf8'), url: `${DOCS}${file}` };
}

describe('extractPage on a Sphinx page (tutorial/datastructures.html)', () => {
  const { html, url } = corpusPage('tutorial/datastructures.html');
  const page = extractPage(html, url);

  it('takes the title from <title> and the language from <html lang>', () => {
    expect(page.title).toBe('5. Data Structures — Python 3.11.2 documentation');
    expect(page.language).toBe('en');
  });

  it('keeps the content, headings included, as Markdown', () => {
    expect(page.markdown.startsWith('# 5\\. Data Structures\n\nThis chapter describes some things')).toBe(true);
    expect(page.markdown).toContain('### 5.1.3. List Comprehensions');
    expect(page.markdown).toContain('List comprehensions provide a concise way to create lists.');
    expect(page.markdown).toContain('## 5.2. The `del` statement');
    expect(page.text).toContain('List comprehensions provide a concise way to create lists.');
  });

  it('keeps code blocks as fenced code with their language', () => {
    expect(page.markdown).toContain(
      '```python\n>>> squares = []\n>>> for x in range(10):\n...     squares.append(x**2)\n...\n>>> squares\n[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n```',
    );
  });

  it('renders API signatures as code and makes content links absolute', () => {
    expect(page.markdown).toContain('`list.append(x)`\n\nAdd an item to the end of the list.');
    expect(page.markdown).toContain('[`ValueError`](https://docs.python.org/3.11/library/exceptions.html#ValueError)');
  });

  it('keeps the footnotes docutils writes as <aside>', () => {
    expect(page.markdown).toContain('Other languages may return the mutated object, which allows method chaining');
  });

  it('removes sidebars, related bars, search forms, permalinks and the footer', () => {
    const chrome = ['Previous topic', 'Next topic', 'This Page', 'Show Source', 'Navigation', 'Last updated on', 'Found a bug', 'Copyright'];
    // Each marker is in the raw page, so its absence below is the extractor's doing.
    for (const marker of chrome) expect(html).toContain(marker);
    for (const marker of [...chrome, '¶', 'Go']) {
      expect([marker, page.markdown.includes(marker)]).toEqual([marker, false]);
      expect([marker, page.text.includes(marker)]).toEqual([marker, false]);
    }
  });

  it('collects the links of the whole page, navigation included, resolved and normalized in document order', () => {
    expect(page.links[0]).toBe('https://www.python.org/');
    expect(page.links).toContain('https://docs.python.org/3.11/tutorial/modules.html');
    expect(page.links).toContain('https://docs.python.org/3.11/tutorial/controlflow.html');
    expect(page.links).toContain('https://docs.python.org/3.11/library/exceptions.html');
    expect(page.links).toContain('https://github.com/python/cpython/blob/3.11/Doc/tutorial/datastructures.rst');
    // The footer's root-relative link leaves the /3.11/ tree.
    expect(page.links).toContain('https://docs.python.org/bugs.html');
    expect(page.links.indexOf(`${DOCS}tutorial/controlflow.html`)).toBeLessThan(page.links.indexOf(`${DOCS}tutorial/modules.html`));
    expect(new Set(page.links).size).toBe(page.links.length);
    for (const link of page.links) {
      expect(normalizeUrl(link)).toBe(link);
      expect(link).not.toContain('#');
    }
    const internal = page.links.filter((link) => isSameOrigin(link, url));
    expect(internal.length).toBeGreaterThan(15);
    expect(page.links.filter((link) => !isSameOrigin(link, url)).sort()).toEqual([
      'https://github.com/python/cpython/blob/3.11/Doc/tutorial/datastructures.rst',
      'https://www.python.org/',
      'https://www.python.org/psf/donations/',
      'https://www.sphinx-doc.org/',
    ]);
  });

  it('does not need JavaScript', () => {
    expect(page.needsJavaScript).toBe(false);
  });
});

describe('extractPage: needsJavaScript', () => {
  it('is true for an empty app mount point with a script', () => {
    expect(extractPage('<div id="root"></div><script>render(document.getElementById("root"))</script>', 'https://app.example.com/').needsJavaScript).toBe(true);
  });

  it('is true for a create-react-app shell asking to enable JavaScript', () => {
    const html = `<!doctype html><html lang="en"><head><title>Dashboard</title><script defer src="/static/js/main.js"></script></head>
      <body><noscript>You need to enable JavaScript to run this app.</noscript><div id="app"><div class="spinner"></div></div></body></html>`;
    expect(extractPage(html, 'https://app.example.com/dashboard').needsJavaScript).toBe(true);
  });

  it('is true for a page that is only a loading line and a bundle', () => {
    const html = '<html><body><header><a href="/">Home</a></header><p>Loading…</p><script src="/bundle.js"></script></body></html>';
    expect(extractPage(html, 'https://example.com/').needsJavaScript).toBe(true);
  });

  it('is false for a server-rendered Next.js page with its content in #__next', () => {
    const article = '<p>Server-side rendering puts the whole article into the HTML the crawler receives, so nothing is missing.</p>'.repeat(12);
    const html = `<html><body><div id="__next"><main><h1>Rendered</h1>${article}</main></div><script src="/_next/main.js"></script></body></html>`;
    expect(extractPage(html, 'https://example.com/post').needsJavaScript).toBe(false);
  });

  it('is false for a long article whose comments widget asks for JavaScript', () => {
    const article = `<p>${'An ordinary paragraph of a long static article about Python lists. '.repeat(30)}</p>`;
    const html = `<html><body><article><h1>Lists</h1>${article}</article><noscript>Please enable JavaScript to view the comments.</noscript><script src="/comments.js"></script></body></html>`;
    expect(extractPage(html, 'https://blog.example.com/lists').needsJavaScript).toBe(false);
  });

  it('is false for a short static page without scripts', () => {
    expect(extractPage('<html><body><main><p>Moved to the new site.</p></main></body></html>', 'https://example.com/').needsJavaScript).toBe(false);
  });
});

describe('extractPage: links', () => {
  it('resolves against <base href>, itself resolved against the page URL', () => {
    const html = '<html><head><base href="/v2/docs/"></head><body><a href="guide.html">Guide</a><a href="../api/">API</a></body></html>';
    expect(extractPage(html, 'https://example.com/old/page.html').links).toEqual(['https://example.com/v2/docs/guide.html', 'https://example.com/v2/api/']);
  });

  it('keeps http(s) links only, normalized and deduplicated in first-seen order', () => {
    const html = `<html><body><nav><a href="b.html#top">B</a><a href="mailto:docs@example.com">Mail</a></nav>
      <main><a href="javascript:void(0)">JS</a><a href="data:text/plain,x">Data</a><a href="B.html">Other case</a>
      <a href="b.html?utm_source=feed">B again</a><a href="https://Other.example.org:443/x?b=1&a=2">Other</a><a>No href</a>
      <a href="http://[bad">Bad</a></main></body></html>`;
    expect(extractPage(html, 'https://example.com/dir/index.html').links).toEqual([
      'https://example.com/dir/b.html',
      'https://example.com/dir/B.html',
      'https://other.example.org/x?a=2&b=1',
    ]);
  });
});

describe('extractPage: content', () => {
  it('falls back to Readability when the page marks no content container', () => {
    const story = Array.from(
      { length: 6 },
      (_, i) =>
        `<p>Paragraph ${i + 1} of the story explains, in plain sentences, how the garden grew through a long and dry summer, and why, in the end, the tomatoes were worth the wait.</p>`,
    ).join('');
    const html = `<html><head><title>Garden diary</title></head><body>
      <div class="top"><a href="/">Home</a> | <a href="/archive">Archive</a> | <a href="/about">About</a></div>
      <div class="wrap"><div class="post-body"><h2>The dry summer</h2>${story}</div>
      <div class="widget"><h3>Popular</h3><a href="/a">Tomatoes</a><br><a href="/b">Peppers</a><br><a href="/c">Beans</a><br><a href="/d">Herbs</a></div></div>
      </body></html>`;
    const page = extractPage(html, 'https://garden.example.com/dry-summer');
    expect(page.markdown).toContain('Paragraph 1 of the story explains');
    expect(page.markdown).toContain('Paragraph 6 of the story explains');
    expect(page.markdown).not.toContain('Popular');
    expect(page.markdown).not.toContain('Archive');
    expect(page.links).toContain('https://garden.example.com/archive');
  });

  it('uses the body, chrome removed, when neither a container nor Readability finds content', () => {
    const page = extractPage(
      '<html><body><nav><a href="/">Home</a></nav><p>Just one short line.</p><footer>© Example</footer></body></html>',
      'https://example.com/',
    );
    expect(page.markdown).toBe('Just one short line.');
    expect(page.text).toBe('Just one short line.');
  });

  it('fences <pre><code> blocks with a fence longer than any fence inside the code', () => {
    const html = '<main><h1>Fences</h1><pre><code class="language-markdown">Write:\n```js\nlet a = 1;\n```\n</code></pre></main>';
    expect(extractPage(html, 'https://example.com/').markdown).toBe('# Fences\n\n````markdown\nWrite:\n```js\nlet a = 1;\n```\n````');
  });

  it('keeps blank lines inside code blocks', () => {
    const html = '<main><pre>def a():\n    pass\n\n\ndef b():\n    pass</pre></main>';
    expect(extractPage(html, 'https://example.com/').markdown).toBe('```\ndef a():\n    pass\n\n\ndef b():\n    pass\n```');
  });

  it('turns data tables into GFM tables, adding an empty header row when the table has none', () => {
    const html = `<main><table><thead><tr><th>Operation</th><th>Result</th></tr></thead>
      <tbody><tr><td><code>x or y</code></td><td>if <em>x</em> is false, then <em>y</em></td></tr><tr><td>a | b</td><td></td></tr></tbody></table>
      <table><tr><td>k</td><td>v</td></tr></table></main>`;
    expect(extractPage(html, 'https://example.com/').markdown).toBe(
      [
        '| Operation | Result |',
        '| --- | --- |',
        '| `x or y` | if *x* is false, then *y* |',
        '| a \\| b |  |',
        '',
        '|   |   |',
        '| --- | --- |',
        '| k | v |',
      ].join('\n'),
    );
  });

  it('keeps an article header and hidden-free content, dropping site header, hidden and aria-hidden parts', () => {
    const html = `<html><body><header><a href="/">Site</a> Site banner</header>
      <article><header><h1>Post title</h1></header><p>Visible text.</p><div hidden>Hidden text.</div><span aria-hidden="true">Icon</span></article></body></html>`;
    expect(extractPage(html, 'https://example.com/').markdown).toBe('# Post title\n\nVisible text.');
  });

  it('puts a line break between blocks in the plain text', () => {
    const page = extractPage('<main><h1>Title</h1><p>First <b>bold</b> para.</p><ul><li>One</li><li>Two</li></ul></main>', 'https://example.com/');
    expect(page.text).toBe('Title\n\nFirst bold para.\n\nOne\n\nTwo');
  });
});

describe('extractPage: title and language', () => {
  it('falls back to og:title, then the first <h1>, then the URL path', () => {
    expect(extractPage('<html><head><meta property="og:title" content="From OG"></head><body><h1>H</h1></body></html>', 'https://e.com/a').title).toBe(
      'From OG',
    );
    expect(extractPage('<html><body><h1>  Heading\n title </h1></body></html>', 'https://e.com/a').title).toBe('Heading title');
    expect(extractPage('<html><body><p>No title at all.</p></body></html>', 'https://e.com/docs/caf%C3%A9.html').title).toBe('/docs/café.html');
  });

  it('ignores an <svg> icon title', () => {
    expect(extractPage('<html><body><svg><title>icon</title></svg><h1>Real</h1></body></html>', 'https://e.com/').title).toBe('Real');
  });

  it('omits language when <html> has no lang', () => {
    expect('language' in extractPage('<html><body><p>x</p></body></html>', 'https://e.com/')).toBe(false);
  });
});

describe('extractPage: malformed input', () => {
  it('handles empty input, bare text and fragments without <html>, <head> or <body>', () => {
    expect(extractPage('', 'https://e.com/x')).toEqual({ title: '/x', markdown: '', text: '', links: [], needsJavaScript: false });
    expect(extractPage('just some text', 'https://e.com/').markdown).toBe('just some text');
    const fragment = extractPage('<title>T</title><p>Para <a href="/a">link</a></p>', 'https://e.com/');
    expect([fragment.title, fragment.markdown, fragment.links]).toEqual(['T', 'Para [link](https://e.com/a)', ['https://e.com/a']]);
  });

  it('survives unclosed and deeply nested tags', () => {
    const html = `<html><body>${'<div><font>'.repeat(5000)}deep text${'</font></div>'.repeat(10)}<p>unclosed <b>bold`;
    const page = extractPage(html, 'https://e.com/');
    expect(page.text).toContain('deep text');
    expect(page.text).toContain('unclosed bold');
  });

  it('keeps working with a page URL that does not parse, dropping relative links', () => {
    const page = extractPage('<html><body><main><p>Text</p><a href="rel.html">r</a><a href="https://e.com/abs">a</a></main></body></html>', 'not a url');
    expect(page.links).toEqual(['https://e.com/abs']);
    expect(page.markdown).toBe('Text\n\nr[a](https://e.com/abs)');
  });
});
