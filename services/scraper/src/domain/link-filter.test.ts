import { describe, expect, it } from '@jest/globals';
import { crawlableLinks } from './link-filter.ts';

describe('crawlableLinks', () => {
  it('keeps same-origin pages and drops other origins, downloads and the page itself', () => {
    const links = [
      'http://docs.local/a.html',
      'http://docs.local/b/',
      'https://docs.local/a.html',
      'http://other.example/x.html',
      'http://docs.local/archive.tar.gz',
      'http://docs.local/_images/logo.png',
      'http://docs.local/_sources/a.rst.txt',
      'http://docs.local/page.html',
    ];
    expect(crawlableLinks(links, 'http://docs.local/page.html', ['http://docs.local'])).toEqual(['http://docs.local/a.html', 'http://docs.local/b/']);
  });

  it('asks keep only about links that passed the other rules, with the parsed URL and the link as written', () => {
    const asked: [string, string][] = [];
    const links = ['http://docs.local/a.html', 'http://docs.local/b/', 'http://other.example/x.html', 'http://docs.local/logo.png'];
    const kept = crawlableLinks(links, 'http://docs.local/page.html', ['http://docs.local'], (url, link) => {
      asked.push([url.pathname, link]);
      return url.pathname !== '/b/';
    });
    expect(kept).toEqual(['http://docs.local/a.html']);
    expect(asked).toEqual([
      ['/a.html', 'http://docs.local/a.html'],
      ['/b/', 'http://docs.local/b/'],
    ]);
  });
});
