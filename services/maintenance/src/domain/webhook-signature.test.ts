import { describe, expect, it } from '@jest/globals';
import { webhookSignature } from './webhook-signature.ts';

describe('webhookSignature', () => {
  it('is t=<seconds>,v1=<HMAC-SHA256 hex of "<t>.<body>">, matching a value computed outside Node', () => {
    // printf '1700000000.{"event":"run.completed"}' | openssl dgst -sha256 -hmac 'whsec_test_secret_0123'
    expect(webhookSignature('whsec_test_secret_0123', 1700000000, '{"event":"run.completed"}')).toBe(
      't=1700000000,v1=2249966d69ebaac9b148c64abfaf6af58249397676d7e73aee33666fd99c1f5d',
    );
  });

  it('changes with the timestamp, the body and the secret', () => {
    const base = webhookSignature('s'.repeat(16), 1, 'body');
    expect(webhookSignature('s'.repeat(16), 2, 'body')).not.toBe(base);
    expect(webhookSignature('s'.repeat(16), 1, 'body!')).not.toBe(base);
    expect(webhookSignature('t'.repeat(16), 1, 'body')).not.toBe(base);
  });
});
