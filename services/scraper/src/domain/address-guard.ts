import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { PermanentError } from '@kbflow/queues';

/**
 * ipaddr.js range names that are safe to fetch. Everything else (private,
 * loopback, link-local and the 169.254.169.254 metadata address, unique-local,
 * carrier-grade NAT, multicast, reserved, unspecified) is refused.
 */
const PUBLIC_RANGES = new Set(['unicast']);

/** True when an IP address literal is on a range kbflow may fetch from. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return PUBLIC_RANGES.has(parsed.range());
}

/** The error a refused address gets: permanent, since retrying cannot change the answer. */
export function blockedAddressError(host: string, address: string): PermanentError {
  return new PermanentError('blocked_address', `refusing ${host}: it resolves to ${address}, a private, loopback, link-local or metadata address`);
}

/**
 * Refuses URLs whose host is an address literal on a non-public range.
 * Hostnames are checked at connect time by {@link guardedLookup}, after DNS
 * resolution, so a name that resolves privately (or rebinds) is caught too.
 */
export function assertUrlAllowed(url: URL, allowPrivate: boolean): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError('unsupported_url', `only http and https URLs can be fetched, not ${url.protocol}`);
  }
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host) && !isPublicAddress(host)) throw blockedAddressError(url.hostname, host);
  if (host === 'localhost' || host.endsWith('.localhost')) throw blockedAddressError(url.hostname, '127.0.0.1');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` replacement for undici's connector: resolves, then refuses
 * the connection when any resolved address is not public.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(blockedAddressError(hostname, bad.address) as unknown as NodeJS.ErrnoException, []);
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
