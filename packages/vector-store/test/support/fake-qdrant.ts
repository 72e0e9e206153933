import type { QdrantOpenApi, RecordedRequest } from './qdrant-openapi.ts';
import type { Reply } from './recording-server.ts';

interface FakePoint {
  id: string;
  vector: number[];
  payload: Record<string, unknown>;
}

interface FakeCollection {
  size: number;
  payloadSchema: Record<string, unknown>;
  points: Map<string, FakePoint>;
}

/** Scroll pages this small make the adapter follow `next_page_offset` with a handful of points. */
export const FAKE_SCROLL_PAGE = 2;

const ok = (result: unknown): Reply => ({ body: { result, status: 'ok', time: 0.001 } });
const fail = (status: number, error: string): Reply => ({ status, body: { status: { error }, time: 0 } });

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  });
  return dot / Math.sqrt(na * nb);
}

/**
 * Just enough of Qdrant for the client to get through every adapter call:
 * collections, payload indexes, stored points, cosine-ranked query and paged
 * scroll. It ignores payload filters on purpose: it exists to check the
 * requests' shape against the OpenAPI contract, not to reimplement Qdrant
 * (the contract suite does that against a real server when QDRANT_URL is set).
 * Each 200 answer is itself checked against the spec, so the fake cannot
 * drift into answers Qdrant would never give.
 */
export function fakeQdrant(api: QdrantOpenApi): { respond: (req: RecordedRequest) => Reply; responseProblems: string[] } {
  const collections = new Map<string, FakeCollection>();
  const responseProblems: string[] = [];
  let operationId = 0;

  const completed = () => ok({ operation_id: ++operationId, status: 'completed' });

  function answer(req: RecordedRequest): Reply {
    const matched = api.match(req.method, req.path);
    if (!matched) return fail(404, `Not found: ${req.method} ${req.path}`);
    const name = matched.pathParams.collection_name ?? '';
    const collection = collections.get(name);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const missing = () => fail(404, `Not found: Collection \`${name}\` doesn't exist!`);

    switch (matched.operation.operationId) {
      case 'root':
        return { body: { title: 'qdrant - vector search engine', version: '1.19.0', commit: null } };
      case 'collection_exists':
        return ok({ exists: collection !== undefined });
      case 'create_collection': {
        if (collection) return fail(409, `Wrong input: Collection \`${name}\` already exists!`);
        const vectors = body.vectors as { size: number };
        collections.set(name, { size: vectors.size, payloadSchema: {}, points: new Map() });
        return ok(true);
      }
      case 'get_collection':
        if (!collection) return missing();
        return ok({
          status: 'green',
          optimizer_status: 'ok',
          indexed_vectors_count: 0,
          points_count: collection.points.size,
          segments_count: 1,
          config: {
            params: {
              vectors: { size: collection.size, distance: 'Cosine' },
              shard_number: 1,
              replication_factor: 1,
              write_consistency_factor: 1,
              on_disk_payload: true,
            },
            hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000 },
            optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, flush_interval_sec: 5 },
            wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
          },
          payload_schema: collection.payloadSchema,
        });
      case 'create_field_index':
        if (!collection) return missing();
        collection.payloadSchema[String(body.field_name)] = { data_type: 'keyword', points: collection.points.size };
        return completed();
      case 'upsert_points':
        if (!collection) return missing();
        for (const p of body.points as FakePoint[]) collection.points.set(String(p.id), p);
        return completed();
      case 'query_points': {
        if (!collection) return missing();
        const query = body.query as number[];
        const points = [...collection.points.values()]
          .map((p) => ({ id: p.id, version: 1, score: cosine(query, p.vector), payload: p.payload }))
          .sort((a, b) => b.score - a.score)
          .slice(0, Number(body.limit ?? 10));
        return ok({ points });
      }
      case 'delete_points':
        if (!collection) return missing();
        for (const id of (body.points as string[] | undefined) ?? []) collection.points.delete(id);
        return completed();
      case 'count_points':
        if (!collection) return missing();
        return ok({ count: collection.points.size });
      case 'scroll_points': {
        if (!collection) return missing();
        const ids = [...collection.points.keys()].sort();
        const start = body.offset === undefined || body.offset === null ? 0 : ids.indexOf(String(body.offset));
        const pageSize = Math.min(Number(body.limit ?? 10), FAKE_SCROLL_PAGE);
        const page = ids.slice(start, start + pageSize);
        return ok({ points: page.map((id) => ({ id })), next_page_offset: ids[start + pageSize] ?? null });
      }
      default:
        return fail(501, `the fake does not implement ${matched.operation.operationId}`);
    }
  }

  return {
    responseProblems,
    respond(req) {
      const reply = answer(req);
      const matched = api.match(req.method, req.path);
      if ((reply.status ?? 200) === 200 && matched) {
        responseProblems.push(...api.validateResponse(matched.operation.operationId, reply.body));
      }
      return reply;
    },
  };
}
