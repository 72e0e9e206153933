-- A chunk's indexed state moves off the chunk row (issue 13). Setting
-- chunks.indexed wrote a new version of the whole row, and with it its
-- generated search vector (recomputed) and every GIN entry of that vector:
-- 500 chunks took about 41 ms to mark, against about 1 ms for rows of this
-- narrow table. A row here means the chunk's vector was written, at
-- indexed_at; no row means the chunk still needs one. It goes with its chunk.
CREATE TABLE "indexed_chunks" (
    "chunk_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "indexed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "indexed_chunks_pkey" PRIMARY KEY ("chunk_id")
);

ALTER TABLE "indexed_chunks" ADD CONSTRAINT "indexed_chunks_chunk_id_fkey" FOREIGN KEY ("chunk_id") REFERENCES "chunks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

INSERT INTO "indexed_chunks" ("chunk_id", "tenant_id", "indexed_at")
SELECT "id", "tenant_id", COALESCE("indexed_at", CURRENT_TIMESTAMP) FROM "chunks" WHERE "indexed";

DROP INDEX "chunks_tenant_id_indexed_idx";

ALTER TABLE "chunks" DROP COLUMN "indexed", DROP COLUMN "indexed_at";
