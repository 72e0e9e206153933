import type { ContentType } from './content-type.ts';
import { Prisma } from './generated/client.ts';

/**
 * What a search may return: one tenant's knowledge base, optionally narrowed
 * to content types, sources and a date range on the document's last change
 * (`documents.updated_at`). Every read of search results goes through it.
 */
export interface SearchScope {
  tenantId: string;
  knowledgeBaseId: string;
  contentTypes?: ContentType[] | undefined;
  sources?: string[] | undefined;
  /** ISO 8601: documents changed at or after. */
  since?: string | undefined;
  /** ISO 8601: documents changed before. */
  until?: string | undefined;
}

/**
 * The scope as SQL conditions on `d` (documents), AND-ed, to follow a WHERE
 * that already has a condition. The single place the filters become SQL, so
 * full-text search, the vector-hit check and the final re-read filter alike.
 * `updated_at` is a UTC `timestamp` (Prisma's DateTime); the bounds are
 * converted to UTC explicitly so the session time zone cannot shift them.
 */
export function scopeConditions(scope: SearchScope): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`d.tenant_id = ${scope.tenantId}::uuid`, Prisma.sql`d.knowledge_base_id = ${scope.knowledgeBaseId}::uuid`];
  if (scope.contentTypes && scope.contentTypes.length > 0) parts.push(Prisma.sql`d.content_type IN (${Prisma.join(scope.contentTypes)})`);
  if (scope.sources && scope.sources.length > 0) parts.push(Prisma.sql`d.source IN (${Prisma.join(scope.sources)})`);
  if (scope.since) parts.push(Prisma.sql`d.updated_at >= (${scope.since}::timestamptz AT TIME ZONE 'UTC')`);
  if (scope.until) parts.push(Prisma.sql`d.updated_at < (${scope.until}::timestamptz AT TIME ZONE 'UTC')`);
  return Prisma.join(parts, ' AND ');
}

/** True when the scope narrows by something the vector store does not hold (sources, dates). */
export function hasDocumentOnlyFilters(scope: Pick<SearchScope, 'sources' | 'since' | 'until'>): boolean {
  return (scope.sources !== undefined && scope.sources.length > 0) || scope.since !== undefined || scope.until !== undefined;
}
