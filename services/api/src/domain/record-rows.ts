import { z } from 'zod';
import { storable } from './storable-text.ts';

/** A record as the API accepts it, after column mapping. */
export interface RecordRow {
  /** Data row number in the file (request row + rowOffset). */
  row: number;
  id: string;
  title: string;
  body: string;
  metadata: Record<string, string | number | boolean | null>;
}

/** A valid row asking for its record's removal. */
export interface DeletedRow {
  row: number;
  id: string;
}

export interface RowError {
  row: number;
  field: string;
  reason: string;
}

/** Which input columns (or JSON keys) hold id, title and body; names match case-insensitively. */
export interface ColumnMapping {
  idColumn?: string;
  titleColumn?: string;
  bodyColumn?: string;
  /** Rows without an id column get `${idPrefix}${row}`. */
  idPrefix?: string;
}

const RECORD_LIMITS = { idMax: 256, titleMax: 1000, bodyMax: 1_000_000, metadataKeys: 200, metadataKeyMax: 200, metadataBytes: 64 * 1024 } as const;

/** Column names tried, in order, when the request names none (compared lower-case). */
const ALIASES = {
  id: ['id', 'ticket id', 'external_id'],
  title: ['title', 'subject', 'ticket subject'],
  body: ['body', 'description', 'ticket description', 'text'],
} as const;

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null (metadata is flat)',
});

const recordSchema = z.object({
  id: z.string().trim().min(1, 'must not be empty').max(RECORD_LIMITS.idMax, `must be at most ${RECORD_LIMITS.idMax} characters`),
  title: z.string().max(RECORD_LIMITS.titleMax, `must be at most ${RECORD_LIMITS.titleMax} characters`),
  body: z
    .string()
    .refine((s) => s.trim().length > 0, 'must not be empty')
    .refine((s) => s.length <= RECORD_LIMITS.bodyMax, `must be at most ${RECORD_LIMITS.bodyMax} characters`),
  metadata: z
    .record(z.string().min(1).max(RECORD_LIMITS.metadataKeyMax), metadataValue)
    .refine((m) => Object.keys(m).length <= RECORD_LIMITS.metadataKeys, `must have at most ${RECORD_LIMITS.metadataKeys} keys`)
    .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= RECORD_LIMITS.metadataBytes, `must be at most ${RECORD_LIMITS.metadataBytes} bytes as JSON`),
});

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no', '']);

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and it means nothing in a
 * ticket's text (one GitHub issue body in the shared data has one pasted
 * from a terminal): it is dropped rather than failing the row. Lone
 * surrogates, which Prisma refuses, become U+FFFD.
 */
function cleaned<T>(value: T): T {
  return storable(value) as T;
}

/** A JSON number or string id; CSV ids are strings already. */
function idText(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
}

/**
 * Resolves which key of `fields` holds each record field: the named column,
 * else the first alias present. Keys compare case-insensitively and trimmed.
 */
function resolveColumns(keys: string[], mapping: ColumnMapping): { id?: string; title?: string; body?: string } {
  const byLower = new Map(keys.map((k) => [k.trim().toLowerCase(), k]));
  const pick = (named: string | undefined, aliases: readonly string[]) =>
    named !== undefined ? byLower.get(named.trim().toLowerCase()) : aliases.map((a) => byLower.get(a)).find((k) => k !== undefined);
  const id = pick(mapping.idColumn, ALIASES.id);
  const title = pick(mapping.titleColumn, ALIASES.title);
  const body = pick(mapping.bodyColumn, ALIASES.body);
  return { id, title, body };
}

/**
 * Maps and validates one row (a CSV row keyed by header, or a JSON object):
 * id, title and body from their columns, an explicit `metadata` object
 * merged with every other scalar column, `deleted` true/1/yes for removal.
 * Returns the record, a deletion, or the first problem naming its field.
 */
export function toRecord(row: number, fields: Record<string, unknown>, mapping: ColumnMapping): RecordRow | DeletedRow | RowError {
  const keys = Object.keys(fields);
  const cols = resolveColumns(keys, mapping);
  const lower = new Map(keys.map((k) => [k.trim().toLowerCase(), k]));
  const deletedKey = lower.get('deleted');
  const metadataKey = lower.get('metadata');
  const used = new Set([cols.id, cols.title, cols.body, deletedKey, metadataKey].filter((k): k is string => k !== undefined));

  let rawId: unknown = cols.id === undefined ? undefined : idText(fields[cols.id]);
  if (cols.id === undefined) {
    if (mapping.idPrefix === undefined) {
      const expected = mapping.idColumn ? `column "${mapping.idColumn}"` : `id column (${ALIASES.id.join(', ')})`;
      return { row, field: mapping.idColumn ?? 'id', reason: `missing: the row has no ${expected}; name one with idColumn or give idPrefix` };
    }
    rawId = `${mapping.idPrefix}${row}`;
  }

  let deleted = false;
  if (deletedKey !== undefined) {
    const flag = fields[deletedKey];
    if (flag === true || (typeof flag === 'string' && TRUE_WORDS.has(flag.trim().toLowerCase()))) deleted = true;
    else if (!(flag === false || flag === null || (typeof flag === 'string' && FALSE_WORDS.has(flag.trim().toLowerCase())))) {
      return { row, field: 'deleted', reason: 'must be true or false' };
    }
  }
  if (deleted) {
    const id = recordSchema.shape.id.safeParse(cleaned(rawId));
    return id.success ? { row, id: id.data } : { row, field: 'id', reason: id.error.issues[0]!.message };
  }

  const explicit = metadataKey === undefined ? {} : fields[metadataKey];
  if (explicit === null || typeof explicit !== 'object' || Array.isArray(explicit)) return { row, field: 'metadata', reason: 'must be an object' };
  const metadata: Record<string, unknown> = {};
  for (const key of keys) {
    if (!used.has(key)) metadata[cleaned(key)] = cleaned(fields[key]);
  }
  for (const [key, value] of Object.entries(explicit)) metadata[cleaned(key)] = cleaned(value);

  const candidate = {
    id: cleaned(rawId),
    title: cols.title === undefined ? '' : cleaned(fields[cols.title] ?? ''),
    body: cols.body === undefined ? undefined : cleaned(fields[cols.body]),
    metadata,
  };
  const parsed = recordSchema.safeParse(candidate);
  if (parsed.success) return { row, ...parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'row';
  if (field === 'body' && cols.body === undefined) {
    return {
      row,
      field: mapping.bodyColumn ?? 'body',
      reason: `missing: the row has no ${mapping.bodyColumn ? `column "${mapping.bodyColumn}"` : `body column (${ALIASES.body.join(', ')})`}`,
    };
  }
  if (issue.code === 'invalid_type' && candidate[field as 'body'] === undefined) return { row, field, reason: 'missing' };
  return { row, field, reason: issue.message };
}

/** Narrowing helper for {@link toRecord}'s result. */
export const isDeletion = (r: RecordRow | DeletedRow | RowError): r is DeletedRow => !('reason' in r) && !('body' in r);
