import type { CaseFields } from '@kbflow/db';
import { z } from 'zod';
import { storable } from './storable-text.ts';

/** A case as the API writes it, after column mapping and validation: the repository's fields, flat metadata, and where it came from. */
export interface CaseRow extends Omit<CaseFields, 'metadata'> {
  /** Data row number in the file (request row + rowOffset). */
  row: number;
  metadata: Record<string, string | number | boolean | null>;
}

export interface CaseRowError {
  row: number;
  field: string;
  reason: string;
}

/** The case fields that columns map to. */
const CASE_FIELDS = ['externalId', 'subject', 'description', 'resolution', 'status', 'priority', 'product', 'channel'] as const;
export type CaseField = (typeof CASE_FIELDS)[number];

/** Which input columns (or JSON keys) hold which case field; names match ignoring case, spaces and punctuation. */
export interface CaseColumnMapping {
  columns: Partial<Record<CaseField, string>>;
  /** Rows without an id column get `${idPrefix}${row}`. */
  idPrefix?: string;
}

/** Column names tried, in order, when the request names none for a field. */
const ALIASES: Record<CaseField, readonly string[]> = {
  externalId: ['ticket id', 'id', 'external_id', 'externalId', 'case id'],
  subject: ['subject', 'ticket subject', 'title'],
  description: ['description', 'ticket description', 'body'],
  resolution: ['resolution'],
  status: ['ticket status', 'status'],
  priority: ['ticket priority', 'priority'],
  product: ['product purchased', 'product', 'repo'],
  channel: ['ticket channel', 'channel'],
};

export const CASE_LIMITS = { idMax: 256, subjectMax: 1000, textMax: 1_000_000, shortMax: 200, metadataKeys: 200, metadataBytes: 64 * 1024 } as const;

/** `Ticket ID`, `ticket_id` and `ticketId` are the same column. */
export function columnKey(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null()], { error: 'must be a string, number, boolean or null (metadata is flat)' });

/** The fields of one case; also the body of `POST /v1/cases` with one object (plus `knowledgeBase`). */
export const caseFieldsSchema = z.object({
  externalId: z.string().trim().min(1, 'must not be empty').max(CASE_LIMITS.idMax, `must be at most ${CASE_LIMITS.idMax} characters`),
  subject: z.string().trim().min(1, 'must not be empty').max(CASE_LIMITS.subjectMax, `must be at most ${CASE_LIMITS.subjectMax} characters`),
  description: text(CASE_LIMITS.textMax).default(''),
  resolution: text(CASE_LIMITS.textMax).default(''),
  status: text(CASE_LIMITS.shortMax).default('open'),
  priority: text(CASE_LIMITS.shortMax).default(''),
  product: text(CASE_LIMITS.shortMax).default(''),
  channel: text(CASE_LIMITS.shortMax).default(''),
  metadata: z
    .record(z.string().min(1).max(200), metadataValue)
    .refine((m) => Object.keys(m).length <= CASE_LIMITS.metadataKeys, `must have at most ${CASE_LIMITS.metadataKeys} keys`)
    .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= CASE_LIMITS.metadataBytes, `must be at most ${CASE_LIMITS.metadataBytes} bytes as JSON`)
    .default({}),
});

/** Numbers (JSON ids, priorities) are taken as their text; null as absent. */
function scalarText(value: unknown): unknown {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return value === null ? undefined : value;
}

/** The key of `keys` holding each case field: the named column, else the first alias present. */
export function resolveCaseColumns(keys: string[], mapping: CaseColumnMapping): Partial<Record<CaseField, string>> {
  const byKey = new Map<string, string>();
  for (const k of keys) if (!byKey.has(columnKey(k))) byKey.set(columnKey(k), k);
  const resolved: Partial<Record<CaseField, string>> = {};
  for (const field of CASE_FIELDS) {
    const named = mapping.columns[field];
    const key = named !== undefined ? byKey.get(columnKey(named)) : ALIASES[field].map((a) => byKey.get(columnKey(a))).find((k) => k !== undefined);
    if (key !== undefined) resolved[field] = key;
  }
  return resolved;
}

/**
 * Maps and validates one row (a CSV row keyed by header, or a JSON object):
 * case fields from their columns, an explicit `metadata` object merged over
 * every other column. Returns the case, or the first problem naming its
 * field (and the column it came from).
 */
export function toCaseRow(row: number, input: Record<string, unknown>, mapping: CaseColumnMapping): CaseRow | CaseRowError {
  const fields = storable(input) as Record<string, unknown>;
  const keys = Object.keys(fields);
  const cols = resolveCaseColumns(keys, mapping);
  const metadataKey = keys.find((k) => columnKey(k) === 'metadata');
  const used = new Set<string>([...Object.values(cols), ...(metadataKey !== undefined ? [metadataKey] : [])]);

  const candidate: Record<string, unknown> = {};
  for (const field of CASE_FIELDS) {
    const key = cols[field];
    if (key !== undefined) candidate[field] = scalarText(fields[key]);
  }
  if (cols.externalId === undefined) {
    if (mapping.idPrefix === undefined) {
      const expected = mapping.columns.externalId ? `column "${mapping.columns.externalId}"` : `id column (${ALIASES.externalId.join(', ')})`;
      return { row, field: 'externalId', reason: `missing: the row has no ${expected}; name one with idColumn or give idPrefix` };
    }
    candidate.externalId = `${mapping.idPrefix}${row}`;
  }
  const explicit = metadataKey === undefined ? {} : fields[metadataKey];
  if (explicit === null || typeof explicit !== 'object' || Array.isArray(explicit)) return { row, field: 'metadata', reason: 'must be an object' };
  const metadata: Record<string, unknown> = {};
  for (const key of keys) if (!used.has(key)) metadata[key] = fields[key];
  candidate.metadata = { ...metadata, ...explicit };

  const parsed = caseFieldsSchema.safeParse(candidate);
  if (parsed.success) return { row, ...parsed.data } as CaseRow;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'row';
  const column = cols[issue.path[0] as CaseField];
  const where = column !== undefined && column !== field ? ` (column "${column}")` : '';
  if (issue.code === 'invalid_type' && candidate[field] === undefined) {
    return {
      row,
      field,
      reason: column === undefined && field === 'subject' ? `missing: the row has no subject column (${ALIASES.subject.join(', ')})` : `missing${where}`,
    };
  }
  return { row, field, reason: `${issue.message}${where}` };
}
