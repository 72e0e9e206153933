/**
 * Outbound connections to addresses a tenant chose (pages to scrape, webhook
 * receivers): which addresses kbflow refuses, and a `dns.lookup` that
 * refuses them after resolution.
 */
export { assertUrlAllowed, guardedLookup, isPublicAddress, blockedAddressError, type AddressPolicy, type Resolver } from './address-guard.ts';
