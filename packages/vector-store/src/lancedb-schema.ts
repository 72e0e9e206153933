// The LanceDB table's layout: its columns, the row a search returns and how
// that row becomes a VectorHit. Shared by the store and its index management.
import { Field, FixedSizeList, Float32, Schema, Utf8 } from 'apache-arrow';
import type { ContentType, VectorHit } from './types.ts';

/**
 * Lance's schema metadata for an "unenforced primary key". With it, Lance
 * detects two concurrent merge-inserts that both insert the same new id and
 * retries the later one as an update. Without it, two processes upserting the
 * same new id at once both append it: we saw 310 rows for 300 ids with four
 * writers. It must be in the schema from creation on: `existOk` compares
 * schemas, metadata included.
 */
const PRIMARY_KEY_METADATA = new Map([['lance-schema:unenforced-primary-key:position', '1']]);

export const PAYLOAD_COLUMNS = ['tenantId', 'knowledgeBaseId', 'documentId', 'contentType'] as const;
/** Every search prefilters on these: bitmap-indexed once the table is large enough for a vector index. */
export const FILTER_INDEX_COLUMNS = ['tenantId', 'knowledgeBaseId'] as const;

/** Columns of the vectors table, `vector` being a FixedSizeList<float32> of the collection's dimension. */
export function lanceSchema(dimensions: number): Schema {
  return new Schema([
    new Field('id', new Utf8(), false, PRIMARY_KEY_METADATA),
    ...PAYLOAD_COLUMNS.map((name) => new Field(name, new Utf8(), false)),
    new Field('vector', new FixedSizeList(dimensions, new Field('item', new Float32(), true)), false),
  ]);
}

/** The vector column's dimension in a table's schema. */
export function vectorDimensionsOf(schema: Schema): number | undefined {
  const type = schema.fields.find((f) => f.name === 'vector')?.type;
  return type instanceof FixedSizeList ? type.listSize : (type as { listSize?: number } | undefined)?.listSize;
}

/** A search result row as Lance returns it. */
export interface LanceRow {
  id: string;
  tenantId: string;
  knowledgeBaseId: string;
  documentId: string;
  contentType: string;
  _distance?: number;
}

/** A search row as a {@link VectorHit}, its cosine distance turned into a similarity. */
export function toHit(row: LanceRow): VectorHit {
  // Cosine distance is 1 - similarity; float error can step just outside [-1, 1].
  const score = Math.max(-1, Math.min(1, 1 - (row._distance ?? 1)));
  return {
    id: row.id,
    score,
    payload: {
      tenantId: row.tenantId,
      knowledgeBaseId: row.knowledgeBaseId,
      documentId: row.documentId,
      contentType: row.contentType as ContentType,
    },
  };
}
