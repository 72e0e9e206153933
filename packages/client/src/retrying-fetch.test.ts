import { describe, expect, it } from '@jest/globals';
import { retryAfterMs, retryingFetch } from './retrying-fetch.ts';

/** A fetch that answers from a script and records what it was sent. */
function scripted(answers: (() => Response)[]) {
  const seen: { method: string; body: string; at: number; key: string | null }[] = [];
  const fake = (async (input: RequestInfo | URL) => {
    const req = input as Request;
    seen.push({ method: req.method, body: await req.text(), at: Date.now(), key: req.headers.get('idempotency-key') });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  }) as typeof fetch;
  return { fake, seen };
}

describe('retryingFetch', () => {
  it('sends a 429 again after its Retry-After, with the same body, and returns the answer that succeeds', async () => {
    const { fake, seen } = scripted([
      () => new Response('{}', { status: 429, headers: { 'retry-after': '0.2' } }),
      () => new Response('{"ok":true}', { status: 200 }),
    ]);
    const res = await retryingFetch(fake, { attempts: 3 })('http://x/v1/crawl', { method: 'POST', body: '{"url":"http://a/"}' });
    expect(res.status).toBe(200);
    expect(seen.map((s) => s.body)).toEqual(['{"url":"http://a/"}', '{"url":"http://a/"}']);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(190);
  });

  it('gives up after its attempts and hands back the last 503', async () => {
    const { fake, seen } = scripted([0, 1, 2].map(() => () => new Response('{}', { status: 503, headers: { 'retry-after': '0' } })));
    const res = await retryingFetch(fake, { attempts: 3 })('http://x/v1/query', { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(seen).toHaveLength(3);
  });

  it('never retries other errors (a 400 or a 500 is the answer)', async () => {
    for (const status of [400, 404, 500, 502]) {
      const { fake, seen } = scripted([() => new Response('{}', { status })]);
      expect((await retryingFetch(fake)('http://x/', { method: 'POST', body: '{}' })).status).toBe(status);
      expect(seen).toHaveLength(1);
    }
  });

  it('resends an unanswered POST only when it carries an Idempotency-Key', async () => {
    const refused = () => {
      throw new TypeError('fetch failed');
    };
    const plain = scripted([refused, () => new Response('{}')]);
    await expect(retryingFetch(plain.fake, { baseDelayMs: 1 })('http://x/', { method: 'POST', body: '{}' })).rejects.toThrow('fetch failed');
    expect(plain.seen).toHaveLength(1);
    const keyed = scripted([refused, () => new Response('{}', { status: 202 })]);
    const res = await retryingFetch(keyed.fake, { baseDelayMs: 1 })('http://x/', { method: 'POST', body: '{}', headers: { 'idempotency-key': 'k-1' } });
    expect(res.status).toBe(202);
    expect(keyed.seen.map((s) => s.key)).toEqual(['k-1', 'k-1']);
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    const { fake, seen } = scripted([() => new Response('{}', { status: 429, headers: { 'retry-after': '3600' } }), () => new Response('{}')]);
    await retryingFetch(fake, { maxDelayMs: 50 })('http://x/');
    expect(seen[1]!.at - seen[0]!.at).toBeLessThan(3_000);
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('5')).toBe(5000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
