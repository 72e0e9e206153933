import { createHmac } from 'node:crypto';

/**
 * The `Kbflow-Signature` header of a delivery, Stripe-style:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>`.
 * The timestamp is inside what is signed, so a receiver that refuses old
 * timestamps (five minutes, say) refuses replays too. docs/webhooks.md
 * shows how to verify it.
 */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}
