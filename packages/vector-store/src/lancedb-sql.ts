import { normalizeId } from './validation.ts';
import { ID_SLICES, type IdSlice, type VectorFilter } from './types.ts';

/**
 * A SQL string literal for LanceDB (DataFusion) predicates. Single quotes are
 * doubled; backslashes have no special meaning there, so nothing else needs
 * escaping. Every value that reaches a `where` goes through this.
 */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * A quoted column name. DataFusion folds unquoted identifiers to lowercase,
 * which would turn `tenantId` into a missing `tenantid` column.
 */
export function sqlColumn(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a column name: ${name}`);
  return `\`${name}\``;
}

/** `(<'id1'>, <'id2'>)` for an IN list; ids must be UUIDs, and are quoted regardless. */
export function sqlIdList(ids: readonly string[]): string {
  return `(${ids.map((id) => sqlString(normalizeId(id))).join(', ')})`;
}

/** The AND of the filter's conditions, or undefined when there are none. Expects a normalized filter. */
export function filterToSql(filter: Partial<VectorFilter>): string | undefined {
  const parts: string[] = [];
  if (filter.tenantId !== undefined) parts.push(`${sqlColumn('tenantId')} = ${sqlString(filter.tenantId)}`);
  if (filter.knowledgeBaseId !== undefined) parts.push(`${sqlColumn('knowledgeBaseId')} = ${sqlString(filter.knowledgeBaseId)}`);
  if (filter.documentId !== undefined) parts.push(`${sqlColumn('documentId')} = ${sqlString(filter.documentId)}`);
  if (filter.contentTypes !== undefined && filter.contentTypes.length > 0) {
    parts.push(`${sqlColumn('contentType')} IN (${filter.contentTypes.map(sqlString).join(', ')})`);
  }
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

/** The SQL predicate of an {@link IdSlice} on the `id` column (stored lowercase, see `normalizeIds`). */
export function sliceToSql(slice: IdSlice): string {
  if (!ID_SLICES.includes(slice)) throw new Error(`not an id slice: ${String(slice)}`);
  return `${sqlColumn('id')} LIKE '${slice}%'`;
}
