import { lookup } from 'node:dns/promises';
import { assertUrlAllowed, isPublicAddress } from '@kbflow/net';
import { ApiError } from './api-error.ts';

/** A registration waits at most this long for DNS; the delivery checks again at connect time anyway. */
const LOOKUP_TIMEOUT_MS = 5000;

/**
 * Refuses, at registration, a webhook URL whose host is or resolves to a
 * private, loopback, link-local or metadata address (the scraper's rule,
 * from `@kbflow/net`), unless private networks are allowed: a 400 naming
 * `webhook.url`. Each delivery checks again, after its own resolution,
 * since DNS can change after registration.
 */
export async function checkWebhookUrl(url: string, allowPrivate: boolean): Promise<void> {
  const refuse = (message: string) => new ApiError(400, 'invalid_field', message, { field: 'webhook.url' });
  const parsed = new URL(url);
  try {
    assertUrlAllowed(parsed, allowPrivate);
  } catch (error) {
    throw refuse((error as Error).message);
  }
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string }[];
  try {
    addresses = await Promise.race([
      lookup(host, { all: true }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('DNS lookup timed out')), LOOKUP_TIMEOUT_MS).unref()),
    ]);
  } catch (error) {
    throw refuse(`${parsed.hostname} does not resolve: ${(error as Error).message}`);
  }
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad) throw refuse(`refusing ${parsed.hostname}: it resolves to ${bad.address}, a private, loopback, link-local or metadata address`);
}
