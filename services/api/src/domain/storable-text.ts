const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * How deep {@link storable} walks. No schema takes values nested anywhere
 * near this deep, and walking a client's 20,000-level array would overflow
 * the stack (a 500) before validation could refuse it.
 */
const MAX_DEPTH = 32;

/**
 * The value with every string (and object key) made storable: NUL characters
 * removed (PostgreSQL text and jsonb cannot hold them, and real ticket
 * exports carry the odd one in pasted logs) and lone UTF-16 surrogates
 * replaced by U+FFFD (Prisma's JSON protocol rejects them; JSON bodies carry
 * them as `\ud800` escapes). Dropping an invisible byte beats refusing the
 * row. Apply it before validation, so that a field made only of such
 * characters is empty, and refused as such. Values nested deeper than
 * {@link MAX_DEPTH} are left as they are, for validation to refuse.
 */
export function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\ufffd');
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => storable(item, depth + 1));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k) as string, storable(v, depth + 1)]));
  return value;
}
