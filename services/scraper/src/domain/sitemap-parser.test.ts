import { describe, expect, it } from '@jest/globals';
import { parseSitemap } from './sitemap-parser.ts';

describe('parseSitemap', () => {
  it('reads a urlset with lastmod, entities decoded', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://a.example/one.html</loc><lastmod>2026-11-30T10:00:00+00:00</lastmod></url>
  <url><loc> https://a.example/two?x=1&amp;y=2 </loc></url>
</urlset>`;
    expect(parseSitemap(xml, 100)).toEqual({
      urls: [{ url: 'https://a.example/one.html', lastmod: '2026-11-30T10:00:00+00:00' }, { url: 'https://a.example/two?x=1&y=2' }],
      sitemaps: [],
    });
  });

  it('reads a sitemap index, namespaced or not', () => {
    const xml = `<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
<sm:sitemap><sm:loc>https://a.example/s1.xml</sm:loc></sm:sitemap><sitemap><loc>https://a.example/s2.xml.gz</loc></sitemap></sm:sitemapindex>`;
    expect(parseSitemap(xml, 100)).toEqual({ urls: [], sitemaps: ['https://a.example/s1.xml', 'https://a.example/s2.xml.gz'] });
  });

  it('stops at maxEntries however many the file lists', () => {
    const xml = `<urlset>${Array.from({ length: 5000 }, (_, i) => `<url><loc>https://a.example/${i}</loc></url>`).join('')}</urlset>`;
    const parsed = parseSitemap(xml, 10);
    expect(parsed.urls).toHaveLength(10);
    expect(parsed.urls[9]).toEqual({ url: 'https://a.example/9' });
  });

  it('ignores a DTD entity (no expansion) and loc outside an entry', () => {
    const xml = `<!DOCTYPE x [<!ENTITY boom "BOOMBOOMBOOM">]><urlset><loc>https://a.example/stray</loc><url><loc>https://a.example/&boom;</loc></url></urlset>`;
    const parsed = parseSitemap(xml, 10);
    expect(parsed.urls).toHaveLength(1);
    expect(parsed.urls[0]!.url).not.toContain('BOOM');
  });
});
