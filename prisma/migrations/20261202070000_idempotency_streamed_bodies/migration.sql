-- Idempotency-Key on streamed bulk bodies (kbflow issue 14, item 6): the
-- SHA-256 of the raw body bytes, known only once the route has read the
-- body, stored with the response so that a repeat can be compared byte for
-- byte. Null for JSON-parsed requests (their body hash is in request_hash).
ALTER TABLE "idempotency_keys" ADD COLUMN "body_hash" TEXT;
