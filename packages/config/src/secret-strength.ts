/** Values kbflow itself uses as local defaults or templates: never acceptable as a production secret. */
const KNOWN_DEFAULTS = new Set(['dev-key', 'dev-admin-key']);

/** Words that mark a value someone forgot to replace (templates, examples, tutorials). */
const PLACEHOLDER_MARKERS = [
  'replace_me',
  'replaceme',
  'replace-me',
  'changeme',
  'change-me',
  'change_me',
  'placeholder',
  'example',
  'your-',
  'your_',
  'xxxxxxxx',
  'secret',
  'password',
];

/** The shortest production API key: 32 characters is 128 bits as hex (`openssl rand -hex 32` gives 64). */
export const MIN_PRODUCTION_KEY_LENGTH = 32;

/** Fewer distinct characters than this is not random (`aaaa…`, `12121212…`). */
const MIN_DISTINCT_CHARACTERS = 10;

/**
 * Why a value cannot serve as a production secret (a key that unlocks the
 * admin API or a tenant), or undefined when it can: a built-in default, a
 * template placeholder, too short, or too repetitive to be random. The value
 * itself is never part of the reason (it may be a real secret, one typo away).
 */
export function weakSecretReason(value: string): string | undefined {
  const lower = value.toLowerCase();
  if (KNOWN_DEFAULTS.has(lower)) return 'is a built-in development default';
  const marker = PLACEHOLDER_MARKERS.find((m) => lower.includes(m));
  if (marker) return `looks like a placeholder (contains "${marker}")`;
  if (value.length < MIN_PRODUCTION_KEY_LENGTH) return `is shorter than ${MIN_PRODUCTION_KEY_LENGTH} characters`;
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS) return `has fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters`;
  return undefined;
}
