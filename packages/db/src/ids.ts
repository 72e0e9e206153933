import { createHash } from 'node:crypto';

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
