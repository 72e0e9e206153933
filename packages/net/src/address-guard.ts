import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { PermanentError } from '@kbflow/errors';

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

/** Resolves a name to all its addresses: `dns.lookup` with `all: true`. */
export type Resolver = (
  hostname: string,
  options: { all: true; family?: number },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * How addresses are resolved and classified. Production uses the defaults;
 * tests inject a resolver (names that resolve to a chosen address) and a
 * classifier (one stand-in loopback address counted as public), because a
 * real public address cannot be served on a machine without a network.
 */
export interface AddressPolicy {
  resolve?: Resolver;
  isPublic?: (address: string) => boolean;
}

/**
 * Refuses URLs whose host is an address literal on a non-public range.
 * Hostnames are checked at connect time by {@link guardedLookup}, after DNS
 * resolution, so a name that resolves privately (or rebinds) is caught too.
 */
export function assertUrlAllowed(url: URL, allowPrivate: boolean, policy: AddressPolicy = {}): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError('unsupported_url', `only http and https URLs can be fetched, not ${url.protocol}`);
  }
  if (allowPrivate) return;
  const isPublic = policy.isPublic ?? isPublicAddress;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host) && !isPublic(host)) throw blockedAddressError(url.hostname, host);
  if (host === 'localhost' || host.endsWith('.localhost')) throw blockedAddressError(url.hostname, '127.0.0.1');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` replacement for a connector (undici's, `http.request`'s,
 * `net.connect`'s): resolves, then refuses the connection when any resolved
 * address is not public. The connection then goes to the address that was
 * checked, so a name cannot resolve differently between check and connect.
 */
export function guardedLookup(allowPrivate: boolean, policy: AddressPolicy = {}) {
  const resolve = policy.resolve ?? systemResolver;
  const isPublic = policy.isPublic ?? isPublicAddress;
  return (hostname: string, options: object, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, list) => {
      if (err) return callback(err, []);
      const bad = allowPrivate ? undefined : list.find((a) => !isPublic(a.address));
      if (bad) return callback(blockedAddressError(hostname, bad.address) as unknown as NodeJS.ErrnoException, []);
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
