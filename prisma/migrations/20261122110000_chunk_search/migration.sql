-- Full-text search over chunks (hybrid retrieval and the keyword fallback
-- when the vector store is down). Written by hand: Prisma cannot express a
-- generated column; the schema declares it as Unsupported("tsvector").
ALTER TABLE "chunks" ADD COLUMN "search_vector" tsvector
  GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce("heading", '')), 'A') ||
    setweight(to_tsvector('english', "text"), 'B')
  ) STORED;

CREATE INDEX "chunks_search_vector_idx" ON "chunks" USING GIN ("search_vector");
