import { describe, expect, it } from '@jest/globals';
import { productToken, RobotsRules, robotsFileOf } from './robots-rules.ts';

const ORIGIN = 'https://docs.example';
const UA = 'kbflow/0.1 (+https://github.com/kbflow/kbflow)';
const BODY = `User-agent: *
Disallow: /

User-agent: kbflow
Disallow: /private/
Allow: /private/open.html
Crawl-delay: 1.5

Sitemap: https://docs.example/sitemap-a.xml
Sitemap: https://docs.example/sitemap-b.xml.gz
`;

describe('robots.txt rules for kbflow', () => {
  it('follows the kbflow group, not the catch-all, with Allow beating a shorter Disallow', () => {
    const rules = new RobotsRules(ORIGIN, robotsFileOf(200, BODY), UA);
    expect(rules.isAllowed(`${ORIGIN}/guide/index.html`)).toBe(true);
    expect(rules.isAllowed(`${ORIGIN}/private/secret.html`)).toBe(false);
    expect(rules.isAllowed(`${ORIGIN}/private/open.html`)).toBe(true);
    expect(rules.crawlDelayMs()).toBe(1500);
    expect(rules.sitemaps()).toEqual(['https://docs.example/sitemap-a.xml', 'https://docs.example/sitemap-b.xml.gz']);
  });

  it('uses the catch-all group for an agent the file does not name', () => {
    const rules = new RobotsRules(ORIGIN, robotsFileOf(200, BODY), 'otherbot/2.0');
    expect(rules.isAllowed(`${ORIGIN}/guide/index.html`)).toBe(false);
    expect(rules.crawlDelayMs()).toBeUndefined();
  });

  it('reads statuses as RFC 9309 says: 4xx allows all, 5xx and 429 allow nothing', () => {
    expect(new RobotsRules(ORIGIN, robotsFileOf(404, ''), UA).isAllowed(`${ORIGIN}/x`)).toBe(true);
    expect(new RobotsRules(ORIGIN, robotsFileOf(403, ''), UA).isAllowed(`${ORIGIN}/x`)).toBe(true);
    expect(robotsFileOf(503, '')).toEqual({ kind: 'unreachable', reason: 'robots.txt answered 503' });
    expect(new RobotsRules(ORIGIN, robotsFileOf(503, ''), UA).isAllowed(`${ORIGIN}/x`)).toBe(false);
    expect(new RobotsRules(ORIGIN, robotsFileOf(429, ''), UA).isAllowed(`${ORIGIN}/x`)).toBe(false);
  });

  it('names the product token of a configured user agent', () => {
    expect(productToken(UA)).toBe('kbflow');
    expect(productToken('KBflow-Staging/3 (ops@example.com)')).toBe('kbflow-staging');
    expect(productToken('   ')).toBe('*');
  });
});
