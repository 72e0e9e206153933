-- The W3C trace id of the request that submitted a task (set when tracing
-- is on and the trace is sampled), so GET /v1/tasks/:id leads to the trace.
ALTER TABLE "tasks" ADD COLUMN "trace_id" TEXT;
