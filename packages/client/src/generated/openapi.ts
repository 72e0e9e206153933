// Generated from kbflow's OpenAPI document by openapi-typescript: do not edit.
// Regenerate with `pnpm --filter @kbflow/client generate` after changing a route;
// packages/client/test/generated-types.int.test.ts fails while this file is stale.

export interface paths {
    "/v1/admin/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every tenant (admin) */
        get: operations["listTenants"];
        put?: never;
        /** Create a tenant (admin) */
        post: operations["createTenant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/tenants/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One tenant (admin) */
        get: operations["getTenant"];
        put?: never;
        post?: never;
        /**
         * Purge a tenant: every row, vector, cache entry and queued job (admin)
         * @description The tenant's keys stop working at once; the purge runs in the background: poll `GET /v1/admin/tenants/{id}/purge` until `completed`.
         */
        delete: operations["deleteTenant"];
        options?: never;
        head?: never;
        /** Change a tenant's tier or limit overrides (admin) */
        patch: operations["updateTenant"];
        trace?: never;
    };
    "/v1/admin/tenants/{id}/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A tenant's API keys, without the keys (admin) */
        get: operations["listApiKeys"];
        put?: never;
        /** Issue an API key for a tenant (admin) */
        post: operations["createApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/tenants/{id}/keys/{keyId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke an API key (admin)
         * @description Refused by every API replica within 5 s; never brought back by a restart.
         */
        delete: operations["revokeApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/tenants/{id}/purge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Where a tenant's purge is (admin) */
        get: operations["getTenantPurge"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/cases": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List cases, newest first */
        get: operations["listCases"];
        put?: never;
        /**
         * Create one case, or many in bulk
         * @description A JSON object creates one case (201; only `knowledgeBase` is read from the query). A JSON array, NDJSON, CSV or a multipart `file` upload creates or updates many (202), with the column parameters of the query.
         */
        post: operations["createCases"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/cases/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One case */
        get: operations["getCase"];
        put?: never;
        post?: never;
        /** Delete a case and its vectors */
        delete: operations["deleteCase"];
        options?: never;
        head?: never;
        /** Change a case */
        patch: operations["updateCase"];
        trace?: never;
    };
    "/v1/circuit-breakers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Circuit breakers across replicas
         * @description Each replica's state with its instance id with the admin key; with a tenant key, the service and state only.
         */
        get: operations["listCircuitBreakers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/crawl": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Crawl a site from a seed URL
         * @description Follows same-origin links up to maxDepth and maxPages; each page is stored, chunked and embedded. PDF, DOCX, text and Markdown links are extracted too. Obeys the site's robots.txt (respectRobots), adds its sitemaps' pages (sitemaps) and keeps per-host limits shared by all scrapers (politeness); see docs/crawling.md. A recrawl sends stored ETag / Last-Modified back (a 304 is unchanged, nothing downloaded), re-embeds only changed chunks, and removes pages that answer 404/410 or redirect off the crawl's origins; deleteUnreached also removes pages the crawl no longer reaches (docs/recrawls.md).
         */
        post: operations["crawl"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/dead-letters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Jobs that failed their last attempt
         * @description With the admin key, every tenant's; with a tenant key, only that tenant's, without stack traces (they name hosts and paths).
         */
        get: operations["listDeadLetters"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/dead-letters/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete a dead letter (admin) */
        delete: operations["deleteDeadLetter"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/dead-letters/{id}/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replay a dead letter into its origin queue (admin) */
        post: operations["replayDeadLetter"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/documents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload PDF, DOCX, Markdown or text files
         * @description Each `file` part becomes one document (a re-upload of the same source and filename replaces it). PDFs are read page by page (citations name the page), DOCX with its headings. At most 20 files; each within KBFLOW_RECORDS_MAX_BYTES, a PDF within KBFLOW_MAX_DOCUMENT_PAGES pages.
         */
        post: operations["uploadDocuments"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/embed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Embed texts with the configured embedder */
        post: operations["embed"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/knowledge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List knowledge articles */
        get: operations["listKnowledge"];
        put?: never;
        /** Write a knowledge article by hand */
        post: operations["createKnowledge"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/knowledge-bases": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant's knowledge bases */
        get: operations["listKnowledgeBases"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/knowledge/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One knowledge article with its linked cases */
        get: operations["getKnowledge"];
        put?: never;
        post?: never;
        /** Delete a knowledge article and its vectors */
        delete: operations["deleteKnowledge"];
        options?: never;
        head?: never;
        /** Change a knowledge article */
        patch: operations["updateKnowledge"];
        trace?: never;
    };
    "/v1/query": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Answer a question with citations
         * @description Retrieves the best passages of the knowledge base and answers from them (an LLM when configured, extractive otherwise). With `"stream": true` the answer is `text/event-stream`: an event `citations` (`{citations, mode, degraded?}`), then `answer` events (`{text}`: pieces that joined are the answer; LLM tokens or extractive sentences), then `done` (`{answeredBy, timings}`) or `error` (`{error: {code, message}}`). Closing the connection cancels the work.
         */
        post: operations["query"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/queues": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Job counts per queue and state (admin), or the caller's own work in flight
         * @description The admin key sees every queue (`scope: all`); a tenant key sees its own unfinished tasks and their pages by status (`scope: tenant`).
         */
        get: operations["listQueues"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/records": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ingest records in bulk
         * @description Rows as a JSON array, NDJSON, CSV with a header row, or a multipart upload whose `file` part is one of those (gzip and deflate Content-Encodings are decoded). Rows are validated and written as they are read, in batches, in one transaction with the task: a body that turns out malformed half-way writes nothing. Invalid rows are reported by row, field and reason.
         */
        post: operations["ingestRecords"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/records/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete one record and its vectors */
        delete: operations["deleteRecord"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/schedules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The maintenance schedules with their timing and history (admin) */
        get: operations["listSchedules"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/schedules/{name}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A schedule's recent runs (admin) */
        get: operations["listScheduleRuns"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/schedules/{name}/trigger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run a schedule now (admin) */
        post: operations["triggerSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scrape": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Scrape one page */
        post: operations["scrape"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scrape/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Scrape a list of pages */
        post: operations["scrapeBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Ranked passages, no answer */
        post: operations["search"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/search/analytics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant's searches and queries over a window */
        get: operations["searchAnalytics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant's sources, each with its last and next run */
        get: operations["listSources"];
        put?: never;
        /**
         * Register a site to keep fresh
         * @description Crawls `url` on `schedule` (an interval, or a cron pattern of at most one run a minute). A firing while a run is in progress is skipped. `every` schedules run once right away.
         */
        post: operations["createSource"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A source with its last and next run */
        get: operations["getSource"];
        put?: never;
        post?: never;
        /**
         * Remove a source and its schedule
         * @description A run in progress is cancelled. With `purge=true` the documents its runs reached go too (with their chunks and vectors), as a task: 202 with its id.
         */
        delete: operations["deleteSource"];
        options?: never;
        head?: never;
        /**
         * Change a source
         * @description Any field but `type` and `knowledgeBase`; a new schedule replaces the job scheduler. Runs in progress keep the settings they started with.
         */
        patch: operations["updateSource"];
        trace?: never;
    };
    "/v1/sources/{id}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A source's runs, newest first, with their reports */
        get: operations["listSourceRuns"];
        put?: never;
        /**
         * Run a source now
         * @description Starts a run (a crawl task linked to the source) unless one is in progress (409, naming it).
         */
        post: operations["runSource"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{id}/webhook-deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The last attempts to deliver a source's webhook events
         * @description The newest 20 attempts of every run of the source, newest first: status code or error, attempt number, duration (docs/webhooks.md).
         */
        get: operations["listSourceWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Per-queue throughput, error rate and latency (admin), or the caller's own finished work
         * @description The admin key sees every queue (`scope: all`); a tenant key sees its tasks finished in the same window and how long they took (`scope: tenant`).
         */
        get: operations["queueStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The tenant's tasks, newest first
         * @description Filtered by state, type, source and creation time (`since`); `limit` per page (at most 100), `after` = the previous page's `nextCursor`.
         */
        get: operations["listTasks"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task's state, progress and why it waits */
        get: operations["getTask"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stop a crawl, a scrape or a source run
         * @description The task turns `cancelling` at once: its queued pages are dropped when a scraper picks them up (no fetch, no attempt spent), pages being fetched finish, and no new link is followed. It reads `cancelled`, with its counts, once nothing of it is left queued. Cancelling a cancelled task again is a no-op.
         */
        post: operations["cancelTask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{id}/webhook-deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The last attempts to deliver a task's webhook events
         * @description A one-shot crawl's own webhook, or a source run's events sent to the source's webhook: newest first, at most 20 (docs/webhooks.md).
         */
        get: operations["listTaskWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live service replicas
         * @description Every replica (host, pid, concurrency) with the admin key; only the count per service with a tenant key.
         */
        get: operations["listWorkers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        ApiKey: {
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            expiresAt: string | null;
            id: string;
            /** @description written in batches: up to ~10 s behind */
            lastUsedAt: string | null;
            name: string;
            /** @description the first characters of the key, to tell keys apart */
            prefix: string;
            revokedAt: string | null;
            scopes: ("read" | "write" | "admin")[];
            tenantId: string;
        };
        ApiKeyList: {
            keys: components["schemas"]["ApiKey"][];
        };
        Case: {
            category: string | null;
            channel: string | null;
            complete: boolean | null;
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            description: string;
            documentId: string | null;
            externalId: string;
            /** Format: uuid */
            id: string;
            metadata: unknown;
            missingFields: string[];
            pending: boolean;
            priority: string | null;
            product: string | null;
            resolution: string | null;
            status: string | null;
            subject: string;
            syncedAt: string | null;
            syncedVersion: number | null;
            /** @description ISO 8601 date-time (UTC) */
            updatedAt: string;
            version: number;
        } & {
            [key: string]: unknown;
        };
        CaseBulkResult: {
            created: number;
            errors: {
                field: string;
                reason: string;
                row: number;
            }[];
            errorsTruncated: boolean;
            invalid: number;
            received: number;
            unchanged: number;
            updated: number;
        } & {
            [key: string]: unknown;
        };
        CasePage: {
            cases: components["schemas"]["Case"][];
            nextCursor: string | null;
        };
        CircuitBreakers: {
            breakers: {
                name: string;
                replicas: ({
                    service: string;
                    state: string;
                } & {
                    [key: string]: unknown;
                })[];
                /** @enum {string} */
                state: "closed" | "open" | "half-open";
            }[];
        };
        Citation: {
            /** @description the heading (DOCX, Markdown) the cited passage is under */
            heading?: string;
            /** @description the PDF page the cited passage is on */
            page?: number;
            score: number;
            snippet: string;
            title: string;
            url: string;
        };
        CreatedApiKey: {
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            expiresAt: string | null;
            id: string;
            /** @description the key itself: shown this once, stored only as a hash */
            key: string;
            /** @description written in batches: up to ~10 s behind */
            lastUsedAt: string | null;
            name: string;
            /** @description the first characters of the key, to tell keys apart */
            prefix: string;
            revokedAt: string | null;
            scopes: ("read" | "write" | "admin")[];
            tenantId: string;
        };
        DeadLetterPage: {
            deadLetters: {
                attempts: number | null;
                data: unknown;
                /** @description ISO 8601 date-time (UTC) */
                deadLetteredAt: string;
                error: string | null;
                failedAt: string | null;
                id: string;
                jobId: string | null;
                jobName: string | null;
                queue: string | null;
                stacktrace: string[];
            }[];
            limit: number;
            offset: number;
            total: number;
        };
        DeadLetterReplayed: {
            id: string;
            jobId: string;
            jobName: string;
            priority: number;
            queue: string;
        };
        DocumentsAccepted: {
            documents: {
                chunks: number;
                filename: string;
                /** @enum {string} */
                format: "pdf" | "docx" | "markdown" | "text";
                pages?: number;
                title: string;
                unchanged: boolean;
                url: string;
            }[];
            /** @description files that could not be read (encrypted, truncated, too many pages), each with why */
            failed: {
                code: string;
                filename: string;
                message: string;
            }[];
            /** Format: uuid */
            taskId: string;
        };
        Embeddings: {
            dimensions: number;
            embeddings: number[][];
            model: string;
        } & {
            [key: string]: unknown;
        };
        Error: {
            error: {
                /** @description machine-readable error code, e.g. invalid_field, unknown_field, not_found */
                code: string;
                /** @description the request field at fault, when one is */
                field?: string;
                message: string;
            };
        };
        KnowledgeArticle: {
            body: string;
            caseCount: number;
            category: string;
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            generatedBy: string;
            /** Format: uuid */
            id: string;
            linkedCases: {
                caseId: string;
                caseVersion: number | null;
                currentVersion: number | null;
                externalId: string;
                similarity: number | null;
                subject: string;
            }[];
            patternKey: string;
            resolutionSteps: string[];
            status: string;
            summary: string;
            symptoms: string[];
            title: string;
            /** @description ISO 8601 date-time (UTC) */
            updatedAt: string;
        };
        KnowledgeArticlePage: {
            articles: components["schemas"]["KnowledgeArticleSummary"][];
            limit: number;
            offset: number;
            total: number;
        };
        KnowledgeArticleSummary: {
            caseCount: number;
            category: string;
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            generatedBy: string;
            /** Format: uuid */
            id: string;
            patternKey: string;
            resolutionSteps: string[];
            status: string;
            summary: string;
            symptoms: string[];
            title: string;
            /** @description ISO 8601 date-time (UTC) */
            updatedAt: string;
        };
        KnowledgeBaseList: {
            knowledgeBases: {
                /** @description ISO 8601 date-time (UTC) */
                createdAt: string;
                documents: number;
                name: string;
                slug: string;
            }[];
        };
        QueryAnswer: {
            answer: string;
            /** @enum {string} */
            answeredBy: "llm" | "extractive";
            citations: components["schemas"]["Citation"][];
            /** @description set when retrieval fell back (vector store down, keyword budget spent) */
            degraded?: string;
            /** @enum {string} */
            mode: "hybrid" | "vector" | "keyword";
            /** @description milliseconds per stage: queueWaitMs, embedMs, retrieveMs, generateMs, totalMs... */
            timings: {
                [key: string]: number;
            };
        };
        QueueCounts: {
            queues: {
                counts: {
                    [key: string]: number;
                };
                name: string;
            }[];
            /** @constant */
            scope: "all";
        } | {
            pages: {
                [key: string]: number;
            };
            /** @constant */
            scope: "tenant";
            tasks: {
                [key: string]: number;
            };
        };
        QueueStats: {
            queues: ({
                errorRate: number;
                latencyMs: {
                    sample: number;
                } & {
                    [key: string]: unknown;
                };
                name: string;
                throughputPerMinute: {
                    completed: number;
                    failed: number;
                };
                totals: {
                    completed: number;
                    failed: number;
                };
                windowMinutes: number;
            } & {
                [key: string]: unknown;
            })[];
            /** @constant */
            scope: "all";
        } | {
            durationMs: {
                p50: number | null;
                p95: number | null;
            };
            /** @constant */
            scope: "tenant";
            tasks: {
                cancelled: number;
                completed: number;
                failed: number;
            };
            windowSeconds: number;
        };
        RecordsAccepted: {
            accepted: number;
            deleted: number;
            errors: {
                field: string;
                reason: string;
                row: number;
            }[];
            errorsTruncated: boolean;
            invalid: number;
            /** @description mode=full: why no record was deleted for being missing (the upload, or some batch of its sync, had invalid rows or was rejected) */
            pruneSkipped?: string;
            received: number;
            /** @description with sync: the state of the sync after this batch */
            sync?: {
                /** @description batches of the sync stored so far, this one included (a repeated batch counts again) */
                batches: number;
                /** @description true: this batch ended the sync (its deletions are in deleted) */
                final: boolean;
                id: string;
            };
            /** Format: uuid */
            taskId: string;
            unchanged: number;
        };
        RunReport: {
            /** @description body bytes read from the site */
            bytesFetched: number;
            /** @description pages whose content changed since the stored version */
            changed: number;
            /** @description pages removed because they are gone from the site (404/410, redirected out of scope) or, after a complete run with deleteUnreached, no longer reached */
            deleted: number;
            /** @description from the first page picked up to the end (to now while running) */
            durationMs: number;
            /** @description pages that could not be fetched, stored or embedded */
            failed: number;
            /** @description pages stored for the first time */
            new: number;
            /** @description of unchanged, the pages that answered 304 to a conditional request or that their sitemap lastmod showed unchanged (nothing downloaded) */
            notModified: number;
            /**
             * @description why it stopped, once finished
             * @enum {string}
             */
            stopReason?: "done" | "maxPages" | "quota" | "cancelled" | "failed";
            /** @description pages whose content hash matched the stored version (or answered 304) */
            unchanged: number;
        };
        RunStarted: {
            /** Format: uuid */
            taskId: string;
        };
        ScheduleRuns: {
            name: string;
            runs: ({
                attempts: number;
                durationMs: number | null;
                error: string | null;
                finishedAt: string | null;
                jobId: string;
                /** @description ISO 8601 date-time (UTC) */
                startedAt: string;
                status: string;
                trigger: string;
            } & {
                [key: string]: unknown;
            })[];
        };
        Schedules: {
            schedules: {
                errorCount: number;
                everyMs: number | null;
                lastDurationMs: number | null;
                lastRun: ({
                    attempts: number;
                    durationMs: number | null;
                    error: string | null;
                    finishedAt: string | null;
                    jobId: string;
                    /** @description ISO 8601 date-time (UTC) */
                    startedAt: string;
                    status: string;
                    trigger: string;
                } & {
                    [key: string]: unknown;
                }) | null;
                name: string;
                nextRunAt: string | null;
                pattern: string | null;
                registered: boolean;
                runCount: number;
                tz: string | null;
            }[];
        };
        ScheduleTriggered: {
            jobId: string;
            name: string;
            priority: number;
            /** @constant */
            trigger: "manual";
        };
        SearchAnalytics: {
            knowledgeBase?: string;
            /** @description ISO 8601 date-time (UTC) */
            since: string;
            total: number;
            /** @description ISO 8601 date-time (UTC) */
            until: string;
        } & {
            [key: string]: unknown;
        };
        SearchResults: {
            degraded?: string;
            /** @enum {string} */
            mode: "hybrid" | "vector" | "keyword";
            results: {
                chunkId: string;
                contentType: string;
                documentId: string;
                heading: string;
                page?: number;
                score: number;
                source: string;
                text: string;
                title: string;
                /** @description ISO 8601 date-time (UTC) */
                updatedAt: string;
                url: string;
            }[];
            /** @description milliseconds per stage: queueWaitMs, embedMs, retrieveMs, generateMs, totalMs... */
            timings: {
                [key: string]: number;
            };
        };
        Source: {
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            deleteUnreached: boolean;
            /** @enum {string} */
            engine: "auto" | "http" | "browser";
            excludePaths: string[];
            /** Format: uuid */
            id: string;
            includePaths: string[];
            knowledgeBase: string;
            /** @description the newest run, finished or not */
            lastRun?: components["schemas"]["SourceRun"];
            maxDepth: number;
            maxPages: number;
            /** @description when the schedule fires next */
            nextRunAt?: string;
            politeness?: {
                maxConcurrency?: number;
                minDelayMs?: number;
            };
            respectRobots: boolean;
            schedule: {
                every: string;
            } | {
                cron: string;
                tz?: string;
            };
            /** @enum {string} */
            sitemaps: "auto" | "off";
            /** @constant */
            type: "site";
            /** @description ISO 8601 date-time (UTC) */
            updatedAt: string;
            url: string;
            webhook?: components["schemas"]["Webhook"];
        };
        SourceList: {
            /**
             * Format: uuid
             * @description pass as `after` for the next page; absent on the last page
             */
            nextCursor?: string;
            sources: components["schemas"]["Source"][];
        };
        SourceRun: {
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            error?: string;
            /** @description ISO 8601 date-time (UTC) */
            finishedAt?: string;
            report: components["schemas"]["RunReport"];
            /** @description ISO 8601 date-time (UTC) */
            startedAt?: string;
            /** @enum {string} */
            state: "queued" | "running" | "cancelling" | "completed" | "failed" | "cancelled";
            /** Format: uuid */
            taskId: string;
            /** @enum {string} */
            trigger: "schedule" | "manual";
        };
        SourceRunList: {
            /**
             * Format: uuid
             * @description pass as `after` for the next page; absent on the last page
             */
            nextCursor?: string;
            runs: components["schemas"]["SourceRun"][];
        };
        TaskAccepted: {
            /** Format: uuid */
            taskId: string;
        };
        TaskList: {
            /**
             * Format: uuid
             * @description pass as `after` for the next page; absent on the last page
             */
            nextCursor?: string;
            tasks: components["schemas"]["TaskStatus"][];
        };
        TaskStatus: {
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            error?: string;
            /** @description ISO 8601 date-time (UTC) */
            finishedAt?: string;
            /** Format: uuid */
            id: string;
            params: {
                [key: string]: unknown;
            };
            /** @description crawls: discovered, scraped, skipped, embedded, failed, cancelled, and of those notModified (skipped on a 304 or by sitemap lastmod), unchangedByHash (skipped: same content hash), deletedGone (404/410 or redirected out of scope: document removed), deletedUnreached (removed by deleteUnreached); ingests: received, accepted, unchanged, deleted, invalid, toEmbed, embedded */
            progress: {
                [key: string]: number;
            };
            /** @description deleteUnreached was asked but removed nothing, and why: maxPages, failed pages, pages not processed */
            pruneSkipped?: string;
            /** @description crawls, scrapes and source runs: what the run changed */
            report?: components["schemas"]["RunReport"];
            result?: unknown;
            /**
             * Format: uuid
             * @description the source this task is a run (or a purge) of
             */
            sourceId?: string;
            /** @description ISO 8601 date-time (UTC) */
            startedAt?: string;
            /**
             * @description cancelling: cancel asked, queued pages being dropped; cancelled once nothing of it is queued
             * @enum {string}
             */
            state: "queued" | "running" | "cancelling" | "completed" | "failed" | "cancelled";
            /** @description the W3C trace id of the request that submitted the task, when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT) and the trace was sampled: look it up in Jaeger or Tempo (docs/tracing.md) */
            traceId?: string;
            /** @description crawl, scrape, batch-scrape, ingest or purge */
            type: string;
            /** @description why a queued or running task is not moving: its own pages still to fetch (queued), rate limit, open breaker, the tenant concurrency limit (tenant-limit), waiting for children */
            waiting?: {
                message?: string;
                reason: string;
            } & {
                [key: string]: unknown;
            };
            /** @description a one-shot crawl's webhook (a source run's is the source's) */
            webhook?: components["schemas"]["Webhook"];
        };
        Tenant: {
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            deletedAt: string | null;
            id: string;
            limits: components["schemas"]["TenantLimits"] | null;
            name: string;
            /** @enum {string} */
            tier: "starter" | "professional" | "enterprise";
        };
        TenantLimits: {
            maxApiCallsPerHour?: number;
            maxConcurrentProcessing?: number;
            maxDocumentsPerKnowledgeBase?: number;
            maxVectorOperationsPerMinute?: number;
        };
        TenantLimitsInput: {
            maxApiCallsPerHour?: number;
            maxConcurrentProcessing?: number;
            maxDocumentsPerKnowledgeBase?: number;
            maxVectorOperationsPerMinute?: number;
        };
        TenantList: {
            tenants: components["schemas"]["Tenant"][];
        };
        TenantPurge: {
            error: string | null;
            finishedAt: string | null;
            id: string;
            /** @description ISO 8601 date-time (UTC) */
            startedAt: string;
            /** @enum {string} */
            status: "running" | "completed" | "failed";
            tenantId: string;
            tenantName: string;
        };
        Webhook: {
            events: ("run.started" | "run.completed" | "run.failed")[];
            /** @description the secret's last 4 characters, after an ellipsis: the secret itself is never shown again */
            secretHint: string;
            url: string;
        };
        WebhookDelivery: {
            /** @description 1 for the first attempt */
            attempt: number;
            /** @description ISO 8601 date-time (UTC) */
            createdAt: string;
            /** @description the Kbflow-Delivery header: the same on every attempt of one event */
            deliveryId: string;
            durationMs: number;
            error?: string;
            /** @enum {string} */
            event: "run.started" | "run.completed" | "run.failed";
            /** @enum {string} */
            outcome: "succeeded" | "failed";
            /** @description the receiver's HTTP status, when it answered */
            statusCode?: number;
            /** Format: uuid */
            taskId: string;
            url: string;
        };
        WebhookDeliveryList: {
            /** @description the newest attempts first, at most 20 */
            deliveries: components["schemas"]["WebhookDelivery"][];
        };
        Workers: {
            services: {
                [key: string]: number;
            };
            /** @description each replica: admin key only */
            workers?: ({
                concurrency: {
                    [key: string]: number;
                };
                host: string;
                instanceId: string;
                /** @description ISO 8601 date-time (UTC) */
                lastSeenAt: string;
                pid: number;
                service: string;
                /** @description ISO 8601 date-time (UTC) */
                startedAt: string;
                version: string;
            } & {
                [key: string]: unknown;
            })[];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    listTenants: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description tenants by name */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TenantList"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createTenant: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    limits?: components["schemas"]["TenantLimits"] | null;
                    name: string;
                    /**
                     * @default starter
                     * @enum {string}
                     */
                    tier?: "starter" | "professional" | "enterprise";
                };
            };
        };
        responses: {
            /** @description the tenant */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description conflict. Codes: `tenant_name_taken` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the tenant */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `tenant_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the purge, started */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TenantPurge"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `tenant_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    limits?: components["schemas"]["TenantLimits"] | null;
                    /** @enum {string} */
                    tier?: "starter" | "professional" | "enterprise";
                };
            };
        };
        responses: {
            /** @description the tenant */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `tenant_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listApiKeys: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description newest first, revoked ones included */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyList"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `tenant_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createApiKey: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: date-time */
                    expiresAt?: string;
                    name: string;
                    scopes: ("read" | "write" | "admin")[];
                };
            };
        };
        responses: {
            /** @description the key, shown this once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedApiKey"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `tenant_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                keyId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the revoked key */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKey"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `tenant_not_found`, `api_key_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getTenantPurge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the latest purge of the tenant */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TenantPurge"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `purge_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listCases: {
        parameters: {
            query?: {
                category?: string;
                cursor?: string;
                knowledgeBase?: string;
                limit?: number;
                pending?: "true" | "false";
                status?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page; pass nextCursor as cursor for the next */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CasePage"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createCases: {
        parameters: {
            query?: {
                bodyColumn?: string;
                channelColumn?: string;
                idColumn?: string;
                idPrefix?: string;
                knowledgeBase?: string;
                priorityColumn?: string;
                productColumn?: string;
                resolutionColumn?: string;
                rowOffset?: number;
                statusColumn?: string;
                titleColumn?: string;
            };
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @default  */
                    channel?: string;
                    /** @default  */
                    description?: string;
                    externalId?: string;
                    knowledgeBase?: string;
                    /** @default {} */
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                    /** @default  */
                    priority?: string;
                    /** @default  */
                    product?: string;
                    /** @default  */
                    resolution?: string;
                    /** @default open */
                    status?: string;
                    subject: string;
                };
                "application/x-ndjson": string;
                "multipart/form-data": {
                    /** Format: binary */
                    file: string;
                };
                "text/csv": string;
            };
        };
        responses: {
            /** @description the case (single create) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Case"];
                };
            };
            /** @description bulk counts */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CaseBulkResult"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json`, `no_rows`, `invalid_rows` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description conflict. Codes: `case_exists` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the body or file is over its cap. Codes: `payload_too_large` */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the body or file type is not supported. Codes: `unsupported_media_type` */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getCase: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the case */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Case"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `case_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteCase: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the case is gone */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        deleted: true;
                        id: string;
                    };
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `case_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateCase: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    channel?: string;
                    description?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                    priority?: string;
                    product?: string;
                    resolution?: string;
                    status?: string;
                    subject?: string;
                };
            };
        };
        responses: {
            /** @description the changed case */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Case"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `case_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listCircuitBreakers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description every breaker with each replica's state */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CircuitBreakers"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    crawl: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description when the crawl finishes completely (not cut by maxPages, no page failed other than 404/410), remove the knowledge base's pages on the crawl's origins that it did not reach, with their chunks and vectors (docs/recrawls.md)
                     * @default false
                     */
                    deleteUnreached?: boolean;
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    engine?: "auto" | "http" | "browser";
                    excludePaths?: string[];
                    includePaths?: string[];
                    /** @default default */
                    knowledgeBase?: string;
                    /** @default 5 */
                    maxDepth?: number;
                    /** @default 200 */
                    maxPages?: number;
                    politeness?: {
                        /** @description requests in flight to one host at once, across all scrapers */
                        maxConcurrency?: number;
                        /** @description least time between two requests to one host; robots.txt's Crawl-delay raises it */
                        minDelayMs?: number;
                    };
                    /**
                     * @description obey the site's robots.txt for kbflow's user agent (a disallowed URL fails with robots_disallowed)
                     * @default true
                     */
                    respectRobots?: boolean;
                    /**
                     * @description auto: robots.txt's Sitemap: lines and /sitemap.xml add their in-scope pages to the crawl
                     * @default auto
                     * @enum {string}
                     */
                    sitemaps?: "auto" | "off";
                    /** Format: uri */
                    url: string;
                    webhook?: {
                        /**
                         * @description run.started, run.completed (also a cancelled run), run.failed; all three by default
                         * @default [
                         *       "run.started",
                         *       "run.completed",
                         *       "run.failed"
                         *     ]
                         */
                        events?: ("run.started" | "run.completed" | "run.failed")[];
                        /** @description signs each delivery (HMAC-SHA256, Kbflow-Signature header); never shown again in full */
                        secret: string;
                        /**
                         * Format: uri
                         * @description the receiver; POSTed JSON, redirects not followed
                         */
                        url: string;
                    };
                };
            };
        };
        responses: {
            /** @description the task was created; poll GET /v1/tasks/{id} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskAccepted"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `overloaded`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listDeadLetters: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
                queue?: "scrape" | "embed" | "aggregate" | "query" | "maintenance" | "webhook";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page of dead letters */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeadLetterPage"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteDeadLetter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `dead_letter_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description conflict. Codes: `dead_letter_busy` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    replayDeadLetter: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the job was queued again */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeadLetterReplayed"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `dead_letter_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description conflict. Codes: `dead_letter_busy` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description understood but cannot be processed. Codes: `dead_letter_invalid`, `dead_letter_unreplayable` */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `overloaded`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    uploadDocuments: {
        parameters: {
            query?: {
                knowledgeBase?: string;
                source?: string;
            };
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    file: string[];
                };
            };
        };
        responses: {
            /** @description the readable files were stored; their embedding runs as the task */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DocumentsAccepted"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the body or file is over its cap. Codes: `payload_too_large` */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the body or file type is not supported. Codes: `unsupported_media_type` */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description understood but cannot be processed. Codes: `documents_unreadable`, `quota_exceeded` */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    embed: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    texts: string[];
                };
            };
        };
        responses: {
            /** @description one vector per text */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Embeddings"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the job that served the request failed. Codes: `job_failed` */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no answer within the timeout. Codes: `timeout` */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listKnowledge: {
        parameters: {
            query?: {
                category?: string;
                knowledgeBase?: string;
                limit?: number;
                offset?: number;
                status?: "active" | "retired";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page of articles (without their bodies) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KnowledgeArticlePage"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `knowledge_base_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createKnowledge: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    body?: string;
                    /** @default other */
                    category?: string;
                    /** @default default */
                    knowledgeBase?: string;
                    /** @default [] */
                    resolutionSteps?: string[];
                    summary: string;
                    /** @default [] */
                    symptoms?: string[];
                    title: string;
                };
            };
        };
        responses: {
            /** @description the article, queued for indexing */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KnowledgeArticle"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listKnowledgeBases: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description every knowledge base of the tenant, by slug */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KnowledgeBaseList"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getKnowledge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the article */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KnowledgeArticle"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `knowledge_article_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteKnowledge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the article is gone */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `knowledge_article_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateKnowledge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    body?: string;
                    category?: string;
                    resolutionSteps?: string[];
                    summary?: string;
                    symptoms?: string[];
                    title?: string;
                };
            };
        };
        responses: {
            /** @description the changed article */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KnowledgeArticle"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `knowledge_article_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    query: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @default true */
                    collapseDuplicates?: boolean;
                    contentTypes?: ("page" | "record" | "case" | "article")[];
                    /** @default 0 */
                    diversity?: number;
                    /** @default default */
                    knowledgeBase?: string;
                    /**
                     * @default hybrid
                     * @enum {string}
                     */
                    mode?: "hybrid" | "vector" | "keyword";
                    query: string;
                    /** Format: date-time */
                    since?: string;
                    sources?: string[];
                    /** @default false */
                    stream?: boolean;
                    /** @default 5 */
                    topK?: number;
                    /** Format: date-time */
                    until?: string;
                };
            };
        };
        responses: {
            /** @description the answer, its citations and the time each stage took (JSON; server-sent events with "stream": true) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QueryAnswer"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `knowledge_base_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the job that served the request failed. Codes: `job_failed` */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no answer within the timeout. Codes: `timeout` */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listQueues: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description every queue, or the tenant's work */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QueueCounts"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    ingestRecords: {
        parameters: {
            query?: {
                bodyColumn?: string;
                /** @description with sync: true on the sync's last batch, sent after every other batch was answered; it deletes and ends the sync */
                final?: "true" | "false";
                idColumn?: string;
                idPrefix?: string;
                knowledgeBase?: string;
                /** @description full: the upload is the whole source; the source's records it does not contain are deleted with their chunks and vectors, in the upload's transaction (skipped when a row is invalid: see pruneSkipped). With sync, the upload is the batches of that sync and only the final one deletes. incremental: only the rows sent are touched */
                mode?: "incremental" | "full";
                rowOffset?: number;
                source?: string;
                /** @description mode=full over several requests: the id (chosen by the client, e.g. a UUID; unique within the tenant) that every batch of one upload carries. The record URLs of each batch are remembered; the batch with final=true deletes the source's records no batch named. Every batch must name the same knowledgeBase and source. An open sync with no batch for 24 h expires */
                sync?: string;
                titleColumn?: string;
            };
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": ({
                    body?: string;
                    /** @description true removes the record */
                    deleted?: boolean;
                    /** @description the record id, unique within its source */
                    id: string;
                    title?: string;
                } & {
                    [key: string]: unknown;
                })[];
                "application/x-ndjson": string;
                "multipart/form-data": {
                    /** Format: binary */
                    file: string;
                };
                "text/csv": string;
            };
        };
        responses: {
            /** @description the rows were stored; their embedding runs as the task */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecordsAccepted"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json`, `no_rows`, `invalid_rows`, `sync_mismatch` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description conflict. Codes: `sync_finished`, `sync_expired` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the body or file is over its cap. Codes: `payload_too_large` */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the body or file type is not supported. Codes: `unsupported_media_type` */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `overloaded`, `write_conflict`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteRecord: {
        parameters: {
            query?: {
                knowledgeBase?: string;
                source?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the record is gone */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        deleted: true;
                        id: string;
                    };
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `record_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSchedules: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description every schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedules"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listScheduleRuns: {
        parameters: {
            query?: {
                limit?: number;
            };
            header?: never;
            path: {
                name: "health-check" | "compact-vector-store" | "case-sync" | "generate-knowledge" | "vectorization-sweep";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the runs, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ScheduleRuns"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `schedule_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    triggerSchedule: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path: {
                name: "health-check" | "compact-vector-store" | "case-sync" | "generate-knowledge" | "vectorization-sweep";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the run was queued */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ScheduleTriggered"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `schedule_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    scrape: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    engine?: "auto" | "http" | "browser";
                    /** @default default */
                    knowledgeBase?: string;
                    /**
                     * @description obey the site's robots.txt for kbflow's user agent (a disallowed URL fails with robots_disallowed)
                     * @default true
                     */
                    respectRobots?: boolean;
                    /** Format: uri */
                    url: string;
                };
            };
        };
        responses: {
            /** @description the task was created; poll GET /v1/tasks/{id} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskAccepted"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `overloaded`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    scrapeBatch: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    engine?: "auto" | "http" | "browser";
                    /** @default default */
                    knowledgeBase?: string;
                    /**
                     * @description obey the site's robots.txt for kbflow's user agent (a disallowed URL fails with robots_disallowed)
                     * @default true
                     */
                    respectRobots?: boolean;
                    urls: string[];
                };
            };
        };
        responses: {
            /** @description the task was created; poll GET /v1/tasks/{id} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskAccepted"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `overloaded`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    search: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @default true */
                    collapseDuplicates?: boolean;
                    contentTypes?: ("page" | "record" | "case" | "article")[];
                    /** @default 0 */
                    diversity?: number;
                    /** @default default */
                    knowledgeBase?: string;
                    /**
                     * @default hybrid
                     * @enum {string}
                     */
                    mode?: "hybrid" | "vector" | "keyword";
                    query: string;
                    /** Format: date-time */
                    since?: string;
                    sources?: string[];
                    /** @default 10 */
                    topK?: number;
                    /** Format: date-time */
                    until?: string;
                };
            };
        };
        responses: {
            /** @description the passages, best first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchResults"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `knowledge_base_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the job that served the request failed. Codes: `job_failed` */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no answer within the timeout. Codes: `timeout` */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    searchAnalytics: {
        parameters: {
            query?: {
                knowledgeBase?: string;
                since?: string;
                until?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description counts, latency percentiles, top and zero-hit queries, an hourly series */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchAnalytics"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `knowledge_base_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSources: {
        parameters: {
            query?: {
                after?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of sources, oldest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SourceList"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createSource: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @default true */
                    deleteUnreached?: boolean;
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    engine?: "auto" | "http" | "browser";
                    /** @default [] */
                    excludePaths?: string[];
                    /** @default [] */
                    includePaths?: string[];
                    /** @default default */
                    knowledgeBase?: string;
                    /** @default 5 */
                    maxDepth?: number;
                    /** @default 200 */
                    maxPages?: number;
                    politeness?: {
                        /** @description requests in flight to one host at once, across all scrapers */
                        maxConcurrency?: number;
                        /** @description least time between two requests to one host; robots.txt's Crawl-delay raises it */
                        minDelayMs?: number;
                    };
                    /** @default true */
                    respectRobots?: boolean;
                    schedule: {
                        /** @description a duration: 30m, 6h, 1d */
                        every: string;
                    } | {
                        /** @description 5 fields, or 6 with a single second */
                        cron: string;
                        /** @description IANA time zone, UTC by default */
                        tz?: string;
                    };
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    sitemaps?: "auto" | "off";
                    /** @constant */
                    type: "site";
                    /** Format: uri */
                    url: string;
                    webhook?: {
                        /**
                         * @description run.started, run.completed (also a cancelled run), run.failed; all three by default
                         * @default [
                         *       "run.started",
                         *       "run.completed",
                         *       "run.failed"
                         *     ]
                         */
                        events?: ("run.started" | "run.completed" | "run.failed")[];
                        /** @description signs each delivery (HMAC-SHA256, Kbflow-Signature header); never shown again in full */
                        secret: string;
                        /**
                         * Format: uri
                         * @description the receiver; POSTed JSON, redirects not followed
                         */
                        url: string;
                    };
                };
            };
        };
        responses: {
            /** @description the source */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Source"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `overloaded`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getSource: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the source */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Source"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `source_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteSource: {
        parameters: {
            query?: {
                purge?: "true" | "false";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description removed; the purge task is queued */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskAccepted"];
                };
            };
            /** @description removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `source_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateSource: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    deleteUnreached?: boolean;
                    /** @enum {string} */
                    engine?: "auto" | "http" | "browser";
                    excludePaths?: string[];
                    includePaths?: string[];
                    maxDepth?: number;
                    maxPages?: number;
                    politeness?: {
                        /** @description requests in flight to one host at once, across all scrapers */
                        maxConcurrency?: number;
                        /** @description least time between two requests to one host; robots.txt's Crawl-delay raises it */
                        minDelayMs?: number;
                    } | null;
                    respectRobots?: boolean;
                    schedule?: {
                        /** @description a duration: 30m, 6h, 1d */
                        every: string;
                    } | {
                        /** @description 5 fields, or 6 with a single second */
                        cron: string;
                        /** @description IANA time zone, UTC by default */
                        tz?: string;
                    };
                    /** @enum {string} */
                    sitemaps?: "auto" | "off";
                    /** Format: uri */
                    url?: string;
                    webhook?: {
                        /**
                         * @description run.started, run.completed (also a cancelled run), run.failed; all three by default
                         * @default [
                         *       "run.started",
                         *       "run.completed",
                         *       "run.failed"
                         *     ]
                         */
                        events?: ("run.started" | "run.completed" | "run.failed")[];
                        /** @description signs each delivery (HMAC-SHA256, Kbflow-Signature header); never shown again in full */
                        secret: string;
                        /**
                         * Format: uri
                         * @description the receiver; POSTed JSON, redirects not followed
                         */
                        url: string;
                    } | null;
                };
            };
        };
        responses: {
            /** @description the source */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Source"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field`, `invalid_json` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `source_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSourceRuns: {
        parameters: {
            query?: {
                after?: string;
                limit?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of runs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SourceRunList"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `source_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    runSource: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the run started; poll GET /v1/tasks/{taskId} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunStarted"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `source_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description conflict. Codes: `run_in_progress` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `queue_unavailable`, `overloaded`, `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSourceWebhookDeliveries: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the attempts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDeliveryList"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `source_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    queueStats: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one entry per queue, or the tenant's work */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QueueStats"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listTasks: {
        parameters: {
            query?: {
                after?: string;
                limit?: number;
                since?: string;
                source?: string;
                state?: "queued" | "running" | "cancelling" | "completed" | "failed" | "cancelled";
                type?: "crawl" | "scrape" | "batch-scrape" | "ingest" | "purge";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of tasks */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskList"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getTask: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the task */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskStatus"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `task_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    cancelTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h) */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the task, cancelling or already cancelled */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskStatus"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `task_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description conflict. Codes: `task_finished`, `not_cancellable` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listTaskWebhookDeliveries: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the attempts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDeliveryList"];
                };
            };
            /** @description invalid input; `field` names the field at fault. Codes: `invalid_field`, `unknown_field` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not found. Codes: `task_not_found` */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listWorkers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description replicas by service */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Workers"];
                };
            };
            /** @description no API key, or an unknown one. Codes: `unauthorized` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description the key may not call this route. Codes: `forbidden` */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description rate limited; retry after Retry-After seconds. Codes: `rate_limited` */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unexpected error (details in the server log). Codes: `internal` */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description overloaded or a dependency is down; retry after Retry-After seconds. Codes: `database_unavailable` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
