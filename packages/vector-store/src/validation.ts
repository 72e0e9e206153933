import { VectorStoreError } from './errors.ts';
import { CONTENT_TYPES, type ContentType, type VectorFilter, type VectorPayload, type VectorRecord } from './types.ts';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** The largest `limit` a search accepts; more is a bug in the caller, not a bigger answer. */
export const MAX_SEARCH_LIMIT = 1000;

/** The largest vector dimension accepted (Qdrant's own limit is 65,536). */
const MAX_DIMENSIONS = 65_536;

function invalid(message: string): VectorStoreError {
  return new VectorStoreError('vector_invalid_input', message);
}

/**
 * Checks an id is a UUID and returns it lowercased: Qdrant answers with
 * lowercase UUIDs, so both adapters store and return that form.
 */
export function normalizeId(id: unknown): string {
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) throw invalid(`vector id must be a UUID, got ${JSON.stringify(id)}`);
  return id.toLowerCase();
}

export function normalizeIds(ids: readonly unknown[]): string[] {
  if (!Array.isArray(ids)) throw invalid('ids must be an array');
  return [...new Set(ids.map(normalizeId))];
}

/** Collection and table names end up in URLs and file paths: keep them plain. */
export function assertCollectionName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw invalid(`collection name must match ${NAME_PATTERN}, got ${JSON.stringify(name)}`);
}

export function assertDimensions(dimensions: number): void {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
    throw invalid(`dimensions must be an integer in [1, ${MAX_DIMENSIONS}], got ${dimensions}`);
  }
}

/** A vector of finite numbers with the expected length (when known). Cosine needs a non-zero norm. */
export function assertVector(vector: unknown, dimensions: number | undefined, what = 'vector'): asserts vector is number[] {
  if (!Array.isArray(vector) || vector.length === 0) throw invalid(`${what} must be a non-empty number array`);
  if (dimensions !== undefined && vector.length !== dimensions) {
    throw new VectorStoreError('vector_dimension_mismatch', `${what} has ${vector.length} dimensions, the collection has ${dimensions}`);
  }
  let norm = 0;
  for (const x of vector) {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw invalid(`${what} must hold finite numbers only`);
    norm += x * x;
  }
  if (norm === 0) throw invalid(`${what} is all zeros: cosine similarity is undefined`);
}

function assertText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${field} must be a non-empty string`);
}

function assertContentType(value: unknown): asserts value is ContentType {
  if (!CONTENT_TYPES.includes(value as ContentType)) {
    throw invalid(`contentType must be one of ${CONTENT_TYPES.join(', ')}, got ${JSON.stringify(value)}`);
  }
}

function assertPayload(payload: VectorPayload): void {
  if (typeof payload !== 'object' || payload === null) throw invalid('payload must be an object');
  assertText(payload.tenantId, 'payload.tenantId');
  assertText(payload.knowledgeBaseId, 'payload.knowledgeBaseId');
  assertText(payload.documentId, 'payload.documentId');
  assertContentType(payload.contentType);
}

/**
 * Validates records and normalizes their ids. A repeated id keeps its last
 * record: one write must not carry two rows for one id (LanceDB's merge would
 * insert both).
 */
export function prepareRecords(records: readonly VectorRecord[], dimensions: number | undefined): VectorRecord[] {
  if (!Array.isArray(records)) throw invalid('records must be an array');
  const byId = new Map<string, VectorRecord>();
  for (const record of records) {
    const id = normalizeId(record.id);
    assertVector(record.vector, dimensions, `vector of ${id}`);
    assertPayload(record.payload);
    const { tenantId, knowledgeBaseId, documentId, contentType } = record.payload;
    byId.set(id, { id, vector: record.vector, payload: { tenantId, knowledgeBaseId, documentId, contentType } });
  }
  return [...byId.values()];
}

/** The normalized filter; an empty `contentTypes` means every type. */
export function normalizeFilter(filter: Partial<VectorFilter>, requireTenant: boolean): Partial<VectorFilter> {
  if (typeof filter !== 'object' || filter === null) throw invalid('filter must be an object');
  const out: Partial<VectorFilter> = {};
  if (filter.tenantId !== undefined || requireTenant) {
    assertText(filter.tenantId, 'filter.tenantId');
    out.tenantId = filter.tenantId;
  }
  if (filter.knowledgeBaseId !== undefined) {
    assertText(filter.knowledgeBaseId, 'filter.knowledgeBaseId');
    out.knowledgeBaseId = filter.knowledgeBaseId;
  }
  if (filter.documentId !== undefined) {
    assertText(filter.documentId, 'filter.documentId');
    out.documentId = filter.documentId;
  }
  if (filter.contentTypes !== undefined) {
    if (!Array.isArray(filter.contentTypes)) throw invalid('filter.contentTypes must be an array');
    filter.contentTypes.forEach(assertContentType);
    if (filter.contentTypes.length > 0) out.contentTypes = [...new Set(filter.contentTypes)];
  }
  return out;
}

export function assertLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw invalid(`limit must be an integer in [1, ${MAX_SEARCH_LIMIT}], got ${limit}`);
  }
}

/** Splits a list into pieces of at most `size` (bounded request and SQL sizes). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
