import { deterministicUuid } from './ids.ts';

/** A chunk row a document already has. */
export interface ExistingChunk {
  id: string;
  position: number;
  hash: string;
}

/** A chunk of the new version, with the id its row gets. */
export interface PlannedChunk {
  id: string;
  position: number;
  hash: string;
  /** True when the row (and its vector) is kept from the earlier version. */
  reused: boolean;
  /** True when a kept row moves to another position. */
  moved: boolean;
}

/**
 * Decides which rows of a document's earlier version the new version keeps.
 * A chunk is matched by its text hash, so text that did not change keeps
 * its row and its vector even when an edit above it shifted its position
 * (an id derived from the position alone would re-embed everything below
 * an inserted paragraph). Exact matches (same position and hash) are taken
 * first, so the id a chunk would be given fresh, derived from (document,
 * position, hash), can never be one a moved chunk has kept: that id exists
 * only for a chunk at that position with that hash, which pass one took.
 * Vectors carry no position (packages/vector-store VectorPayload), so a
 * moved row needs only its position and heading updated.
 */
export function planChunks(
  documentId: string,
  existing: ExistingChunk[],
  next: { position: number; hash: string }[],
): { planned: PlannedChunk[]; removedIds: string[] } {
  const byId = new Map(existing.map((c) => [c.id, c]));
  const used = new Set<string>();
  const planned: (PlannedChunk | undefined)[] = next.map((c) => {
    const id = deterministicUuid(documentId, c.position, c.hash);
    const same = byId.get(id);
    if (!same) return undefined;
    used.add(id);
    return { id, position: c.position, hash: c.hash, reused: true, moved: same.position !== c.position };
  });
  const freeByHash = new Map<string, ExistingChunk[]>();
  for (const c of existing) {
    if (used.has(c.id)) continue;
    const list = freeByHash.get(c.hash) ?? [];
    list.push(c);
    freeByHash.set(c.hash, list);
  }
  for (const list of freeByHash.values()) list.sort((a, b) => a.position - b.position);
  const result = next.map((c, i): PlannedChunk => {
    const exact = planned[i];
    if (exact) return exact;
    const free = freeByHash.get(c.hash)?.shift();
    if (free) {
      used.add(free.id);
      return { id: free.id, position: c.position, hash: c.hash, reused: true, moved: free.position !== c.position };
    }
    return { id: deterministicUuid(documentId, c.position, c.hash), position: c.position, hash: c.hash, reused: false, moved: false };
  });
  return { planned: result, removedIds: existing.filter((c) => !used.has(c.id)).map((c) => c.id) };
}
