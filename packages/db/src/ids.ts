import { createHash, randomBytes } from 'node:crypto';

/**
 * A UUID derived from its parts (SHA-256, version nibble 8 = "custom" per
 * RFC 9562). The same parts always give the same id, which is what makes
 * redelivered jobs write the same rows and vectors instead of new ones.
 */
export function deterministicUuid(...parts: (string | number)[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** SHA-256 of an API key, the only form in which keys are stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What every key kbflow issues starts with, so a leaked one is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'kbf_';
/** Random bytes in an issued key: 256 bits, beyond any guessing. */
const API_KEY_RANDOM_BYTES = 32;
/** Characters of a key kept in clear to tell keys apart in lists: `kbf_` and 8 of the random part (48 bits, no help to a guesser). */
const API_KEY_SHOWN_CHARS = API_KEY_PREFIX.length + 8;

/**
 * A new API key: `kbf_` and 32 bytes from the operating system's CSPRNG,
 * base64url. Returned with its hash (what is stored) and its displayable
 * prefix. SHA-256 is enough for such a key: hashing slowly protects
 * guessable secrets (passwords) against offline search; a 256-bit random
 * key cannot be searched however fast the hash, and a slow hash would cost
 * every request.
 */
export function generateApiKey(): { key: string; hash: string; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(API_KEY_RANDOM_BYTES).toString('base64url');
  return { key, hash: hashApiKey(key), prefix: key.slice(0, API_KEY_SHOWN_CHARS) };
}
