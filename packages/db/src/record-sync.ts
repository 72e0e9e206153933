import { PermanentError } from '@kbflow/errors';
import type pg from 'pg';

/**
 * A record sync (`POST /v1/records?mode=full&sync=<id>`, issue 11 item 4):
 * the batches of one `mode=full` upload sent as several requests. Each
 * batch's record URLs are kept in `record_sync_urls` with the batch's own
 * transaction; the final batch deletes the source's records that no batch
 * named (RecordWriter.deleteMissing, the single-upload code) and marks the
 * sync finished. The state is keyed by tenant and the client's id: another
 * tenant's same id is another sync.
 */
export interface RecordSyncScope {
  /** The client's id, unique within its tenant (validated by the api). */
  id: string;
  /** The last batch: it deletes what the sync did not name and finishes the sync. */
  final: boolean;
}

/** The stored state of a sync, as a batch checks it. */
export interface RecordSyncState {
  knowledgeBaseId: string;
  source: string;
  state: 'open' | 'finished' | 'expired';
  /** An open sync whose last batch is older than {@link SYNC_IDLE_HOURS}: refused as expired. */
  idle: boolean;
  batches: number;
  invalid: number;
  rejected: number;
}

/**
 * An open sync with no batch for this long is expired: refused lazily by
 * the next batch (checked in SQL against now()), its URLs dropped by the
 * maintenance health check. 24 h covers a very large file sent over a slow
 * line; a client that needs longer starts a new sync.
 */
const SYNC_IDLE_HOURS = 24;
/**
 * Finished and expired syncs are kept (without their URLs) this long, so a
 * repeated or late batch is refused instead of starting a new sync whose
 * final batch would delete everything the earlier ones named.
 */
const SYNC_TOMBSTONE_DAYS = 7;

/** Why a batch may not join a sync: the api turns it into a 400 or 409 naming `field`. */
export class RecordSyncRefused extends PermanentError {
  declare readonly status: 400 | 409;
  declare readonly code: 'sync_mismatch' | 'sync_finished' | 'sync_expired';
  readonly field: 'sync' | 'source' | 'knowledgeBase';

  constructor(status: 400 | 409, code: RecordSyncRefused['code'], field: RecordSyncRefused['field'], message: string) {
    super(code, message, { status });
    this.field = field;
  }
}

/**
 * The refusal of a batch for `knowledgeBaseId`/`source` by a stored sync,
 * or undefined when the batch may join it (or there is no such sync yet).
 */
export function syncRefusal(
  id: string,
  state: RecordSyncState | undefined,
  batch: { knowledgeBaseId: string | undefined; source: string },
): RecordSyncRefused | undefined {
  if (!state) return undefined;
  if (state.state === 'finished')
    return new RecordSyncRefused(409, 'sync_finished', 'sync', `sync "${id}" is already finished (its final batch was sent); start a new sync`);
  if (state.state === 'expired' || state.idle)
    return new RecordSyncRefused(
      409,
      'sync_expired',
      'sync',
      `sync "${id}" expired: no batch for ${SYNC_IDLE_HOURS} h; nothing of it is deleted, start a new sync`,
    );
  if (state.source !== batch.source)
    return new RecordSyncRefused(
      400,
      'sync_mismatch',
      'source',
      `sync "${id}" is for source "${state.source}"; every batch of a sync must name the same source`,
    );
  if (state.knowledgeBaseId !== batch.knowledgeBaseId)
    return new RecordSyncRefused(
      400,
      'sync_mismatch',
      'knowledgeBase',
      `sync "${id}" is for another knowledge base; every batch of a sync must name the same one`,
    );
  return undefined;
}

const STATE_COLUMNS = `knowledge_base_id AS "knowledgeBaseId", source, state, batches, invalid, rejected,
  (state = 'open' AND updated_at < now() - interval '${SYNC_IDLE_HOURS} hours') AS idle`;

/** A tenant's sync by id, or undefined. */
export async function readSync(db: pg.Pool | pg.PoolClient, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<RecordSyncState | undefined> {
  const found = await db.query<RecordSyncState>(
    `SELECT ${STATE_COLUMNS} FROM record_syncs WHERE tenant_id = $1::uuid AND id = $2${opts.lock ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return found.rows[0];
}

/**
 * Counts a committed batch into its sync (creating the sync with its first
 * batch), in the batch's transaction. Done at the end of the batch, not at
 * its start: the row lock it takes is then held only until the commit, so
 * two batches of one sync in flight write their rows concurrently. Throws
 * {@link RecordSyncRefused} when the sync is finished, expired, or for
 * another knowledge base or source.
 */
export async function joinSync(
  client: pg.PoolClient,
  scope: { tenantId: string; knowledgeBaseId: string; source: string; sync: RecordSyncScope },
  invalid: number,
): Promise<RecordSyncState> {
  const { tenantId, knowledgeBaseId, source, sync } = scope;
  const joined = await client.query<RecordSyncState>(
    `INSERT INTO record_syncs AS s (tenant_id, id, knowledge_base_id, source, batches, invalid) VALUES ($1::uuid, $2, $3::uuid, $4, 1, $5)
     ON CONFLICT (tenant_id, id) DO UPDATE SET batches = s.batches + 1, invalid = s.invalid + excluded.invalid, updated_at = now()
       WHERE s.state = 'open' AND s.knowledge_base_id = excluded.knowledge_base_id AND s.source = excluded.source
         AND s.updated_at >= now() - interval '${SYNC_IDLE_HOURS} hours'
     RETURNING ${STATE_COLUMNS}`,
    [tenantId, sync.id, knowledgeBaseId, source, invalid],
  );
  if (joined.rows[0]) return joined.rows[0];
  // Not joined: the stored row says why (read under lock, as the INSERT left it).
  const refusal = syncRefusal(sync.id, await readSync(client, tenantId, sync.id, { lock: true }), { knowledgeBaseId, source });
  throw refusal ?? new Error(`sync ${sync.id} could not be joined`);
}

/** A non-final batch: its record URLs (the writer's `seen_urls`) join the sync's. Sorted, so concurrent batches lock keys in one order. */
export async function rememberSyncUrls(client: pg.PoolClient, tenantId: string, id: string): Promise<void> {
  await client.query(
    `INSERT INTO record_sync_urls (tenant_id, sync_id, url) SELECT DISTINCT $1::uuid, $2, url FROM seen_urls ORDER BY 3 ON CONFLICT DO NOTHING`,
    [tenantId, id],
  );
}

/** After the final batch: the URLs go, the row stays as a tombstone (see {@link SYNC_TOMBSTONE_DAYS}). */
export async function finishSync(client: pg.PoolClient, tenantId: string, id: string): Promise<void> {
  await client.query('DELETE FROM record_sync_urls WHERE tenant_id = $1::uuid AND sync_id = $2', [tenantId, id]);
  await client.query(`UPDATE record_syncs SET state = 'finished', updated_at = now() WHERE tenant_id = $1::uuid AND id = $2`, [tenantId, id]);
}

/**
 * A batch of the sync refused for its body (every row invalid, malformed,
 * too large): its records are unknown, so the final batch must not delete
 * anything for being missing. Creates the sync when this was its first
 * batch; leaves a finished, expired or mismatched sync alone.
 */
export async function rejectSyncBatch(db: pg.Pool, scope: { tenantId: string; knowledgeBaseId: string; source: string; id: string }): Promise<void> {
  await db.query(
    `INSERT INTO record_syncs AS s (tenant_id, id, knowledge_base_id, source, rejected) VALUES ($1::uuid, $2, $3::uuid, $4, 1)
     ON CONFLICT (tenant_id, id) DO UPDATE SET rejected = s.rejected + 1, updated_at = now()
       WHERE s.state = 'open' AND s.knowledge_base_id = excluded.knowledge_base_id AND s.source = excluded.source`,
    [scope.tenantId, scope.id, scope.knowledgeBaseId, scope.source],
  );
}

/**
 * Retention (the maintenance health check): open syncs idle past
 * {@link SYNC_IDLE_HOURS} become `expired` and lose their URLs; finished and
 * expired ones older than {@link SYNC_TOMBSTONE_DAYS} are removed.
 */
export async function expireSyncs(db: pg.Pool): Promise<{ expired: number; removed: number }> {
  const expired = await db.query(
    `WITH expired AS (
       UPDATE record_syncs SET state = 'expired', updated_at = now()
       WHERE state = 'open' AND updated_at < now() - interval '${SYNC_IDLE_HOURS} hours' RETURNING tenant_id, id),
     dropped AS (DELETE FROM record_sync_urls u USING expired e WHERE u.tenant_id = e.tenant_id AND u.sync_id = e.id)
     SELECT 1 FROM expired`,
  );
  const removed = await db.query(`DELETE FROM record_syncs WHERE state <> 'open' AND updated_at < now() - interval '${SYNC_TOMBSTONE_DAYS} days'`);
  return { expired: expired.rowCount ?? 0, removed: removed.rowCount ?? 0 };
}
