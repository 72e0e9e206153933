import { describe, expect, it } from '@jest/globals';

import { scanHtml } from './html-scan.ts';
import { findMainContent } from './main-content.ts';
import { plainText } from './plain-text.ts';

const STORY = Array.from(
  { length: 6 },
  (_, i) => `<p>Paragraph ${i + 1} tells, in plain sentences, how the garden grew through a long and dry summer, and why the tomatoes were worth the wait.</p>`,
).join('');

function mainText(html: string): { source: string; text: string } {
  const { root, source } = findMainContent(scanHtml(html));
  return { source, text: plainText(root) };
}

describe('findMainContent', () => {
  it('takes a marked-up container holding most of the text', () => {
    const result = mainText(`<body><div class="sidebar-ish"><a href="/">Home</a></div><div role="main"><h1>Doc</h1>${STORY}</div></body>`);
    expect(result.source).toBe('container');
    expect(result.text.startsWith('Doc\n\nParagraph 1 tells')).toBe(true);
    expect(result.text).not.toContain('Home');
  });

  it('passes over a <main> that holds only a small part of the page, and asks Readability', () => {
    const result = mainText(`<body><main><p>Subscribe to our newsletter for weekly updates.</p></main><div class="post">${STORY}</div></body>`);
    expect(result.source).toBe('readability');
    expect(result.text).toContain('Paragraph 6 tells');
  });

  it('falls back to the body when Readability finds nothing', () => {
    expect(mainText('<body><nav>Menu</nav><p>Only a line.</p></body>')).toEqual({ source: 'body', text: 'Only a line.' });
  });

  it('keeps only the text of elements nested past the depth limit, so nothing overflows the stack', () => {
    const html = `<body>${'<div><font>'.repeat(3000)}<p>deep <a href="/x">text</a></p><script>var hidden = 1;</script>`;
    const result = mainText(html);
    expect(result.text).toBe('deep text');
  });

  it('leaves chrome out of the content tree as it parses: navigation, footers, hidden parts, outer headers', () => {
    const { body } = scanHtml(
      `<body><header>Site</header><nav>Menu</nav><article><header>Post title</header><p>Kept.</p><div hidden>Hidden.</div></article><footer>Foot</footer><script>x()</script></body>`,
    );
    expect(plainText(body)).toBe('Post title\n\nKept.');
  });
});
