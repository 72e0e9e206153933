import type { DocumentRepository, TaskRepository, TenantRepository } from '@kbflow/db';
import {
  chunkMarkdown,
  DocumentExtractionError,
  documentFormatOf,
  extractDocument,
  sha256Hex,
  stripLinkTargets,
  type DocumentFormat,
} from '@kbflow/extraction';
import { activeTraceId } from '@kbflow/observability';
import { Priority, QueueName, type JobProducer } from '@kbflow/queues';
import busboy from 'busboy';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { documentsAccepted } from './responses.ts';

export interface DocumentRouteDeps {
  tenants: TenantRepository;
  tasks: TaskRepository;
  documents: DocumentRepository;
  producer: JobProducer;
  log: Logger;
  /** Cap on one uploaded file, bytes (KBFLOW_RECORDS_MAX_BYTES, the bulk uploads' cap). */
  maxFileBytes: number;
  /** Pages read of one PDF at most (KBFLOW_MAX_DOCUMENT_PAGES). */
  maxPages: number;
}

/** Files in one request at most. */
const MAX_FILES = 20;

const uploadQuery = z.strictObject({
  knowledgeBase: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, - and _')
    .default('default'),
  source: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_" or "-"')
    .default('uploads'),
});

interface UploadedFile {
  filename: string;
  format: DocumentFormat;
  bytes: Buffer;
}

/**
 * Reads every `file` part of a multipart body into memory, each within
 * the cap, before anything is extracted or written: a file over the cap
 * (413) or of a type kbflow does not read (415) refuses the whole request
 * and nothing is stored.
 */
function readFiles(req: Request, maxFileBytes: number): Promise<UploadedFile[]> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('multipart/form-data')) {
    return Promise.reject(new ApiError(415, 'unsupported_media_type', 'send the files as multipart/form-data, each in a part named "file"', { field: 'body' }));
  }
  return new Promise((resolve, reject) => {
    const files: UploadedFile[] = [];
    let failed = false;
    const fail = (error: ApiError) => {
      if (failed) return;
      failed = true;
      req.unpipe();
      req.resume();
      reject(error);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: maxFileBytes, files: MAX_FILES, fields: 0, parts: MAX_FILES } });
    } catch (error) {
      reject(new ApiError(400, 'invalid_field', `not a multipart body: ${(error as Error).message}`, { field: 'body' }));
      return;
    }
    parser.on('file', (field, stream, info) => {
      const filename = (info.filename ?? '').trim() || 'upload';
      if (field !== 'file') {
        stream.resume();
        return fail(new ApiError(400, 'unknown_field', `unknown part "${field}": send each file in a part named "file"`, { field }));
      }
      const format = documentFormatOf(info.mimeType, filename);
      if (!format) {
        stream.resume();
        return fail(
          new ApiError(415, 'unsupported_media_type', `${filename} (${info.mimeType}) is not a supported document: PDF, DOCX, Markdown or plain text`, {
            field: 'file',
          }),
        );
      }
      const parts: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => parts.push(chunk));
      stream.on('limit', () => fail(new ApiError(413, 'payload_too_large', `${filename} is larger than ${maxFileBytes} bytes`, { field: 'file' })));
      stream.on('end', () => {
        if (!failed) files.push({ filename, format, bytes: Buffer.concat(parts) });
      });
    });
    parser.on('filesLimit', () => fail(new ApiError(413, 'payload_too_large', `at most ${MAX_FILES} files per request`, { field: 'file' })));
    parser.on('error', (error: Error) => fail(new ApiError(400, 'invalid_field', `the multipart body is malformed: ${error.message}`, { field: 'body' })));
    parser.on('close', () => {
      if (failed) return;
      if (files.length === 0) return fail(new ApiError(400, 'invalid_field', 'no file: send each file in a part named "file"', { field: 'file' }));
      resolve(files);
    });
    req.pipe(parser);
  });
}

/**
 * `POST /v1/documents`: PDF, DOCX, Markdown and text files uploaded as a
 * multipart form. Each is extracted (PDF pages and DOCX headings kept as
 * sections, so chunks and citations know their page), stored as a
 * document `upload://<source>/<filename>` and embedded as an ingest task.
 * A file that cannot be read (encrypted, truncated) fails alone, with its
 * reason; the others are stored.
 */
export function documentRoutes(deps: DocumentRouteDeps): ApiRoutes {
  const router = new ApiRoutes();
  router.post(
    '/documents',
    {
      operationId: 'uploadDocuments',
      summary: 'Upload PDF, DOCX, Markdown or text files',
      description: `Each \`file\` part becomes one document (a re-upload of the same source and filename replaces it). PDFs are read page by page (citations name the page), DOCX with its headings. At most ${MAX_FILES} files; each within KBFLOW_RECORDS_MAX_BYTES, a PDF within KBFLOW_MAX_DOCUMENT_PAGES pages.`,
      tags: ['records'],
      query: uploadQuery,
      extraBodies: [
        {
          contentType: 'multipart/form-data',
          description: 'one or more parts named `file`',
          schema: z.object({ file: z.array(z.string().meta({ format: 'binary' })) }),
        },
      ],
      responses: { 202: { description: 'the readable files were stored; their embedding runs as the task', schema: documentsAccepted } },
      errors: { 413: ['payload_too_large'], 415: ['unsupported_media_type'], 422: ['documents_unreadable', 'quota_exceeded'], 503: ['queue_unavailable'] },
      example: { query: { source: 'contract' }, files: [{ name: 'notes.md', type: 'text/markdown', text: '# Notes\n\nHigh tide is at noon.' }] },
    },
    async (req, res, input) => {
      const params = input.query();
      const files = await readFiles(req, deps.maxFileBytes);
      const extracted = await Promise.all(
        files.map(async (file) => {
          try {
            return { file, document: await extractDocument(file.bytes, file.format, { name: file.filename, maxPages: deps.maxPages }) };
          } catch (error) {
            if (!(error instanceof DocumentExtractionError)) throw error;
            return { file, error: { code: error.code, message: error.message } };
          }
        }),
      );
      const failed: { filename: string; code: string; message: string }[] = extracted.flatMap((e) =>
        e.error ? [{ filename: e.file.filename, ...e.error }] : [],
      );
      const readableFiles = extracted.filter((e) => e.document !== undefined);
      if (readableFiles.length === 0) {
        res.status(422).json({ error: { code: 'documents_unreadable', message: failed.map((f) => f.message).join('; '), field: 'file' }, failed });
        return;
      }
      const tenantId = req.principal!.tenantId;
      const knowledgeBaseId = await deps.tenants.knowledgeBaseId(tenantId, params.knowledgeBase);
      // The tenant's documents-per-knowledge-base quota: a file that would be a
      // new document past it fails alone, with the reason; a re-upload of a
      // stored one replaces it and costs nothing.
      const urlOf = (filename: string) => `upload://${params.source}/${encodeURIComponent(filename)}`;
      const maxDocuments = req.principal!.limits.maxDocumentsPerKnowledgeBase;
      const admitted = await deps.documents.admittedByQuota(
        knowledgeBaseId,
        readableFiles.map((e) => urlOf(e.file.filename)),
        maxDocuments,
      );
      const readable = readableFiles.filter((e) => admitted.has(urlOf(e.file.filename)));
      for (const e of readableFiles.filter((f) => !admitted.has(urlOf(f.file.filename)))) {
        failed.push({
          filename: e.file.filename,
          code: 'quota_exceeded',
          message: `knowledge base "${params.knowledgeBase}" is at its quota of ${maxDocuments} documents (maxDocumentsPerKnowledgeBase): ${e.file.filename} was not stored`,
        });
      }
      if (readable.length === 0) {
        res.status(422).json({ error: { code: 'quota_exceeded', message: failed.map((f) => f.message).join('; '), field: 'file' }, failed });
        return;
      }
      const taskId = await deps.tasks.createIngestTask({ tenantId, knowledgeBaseId, source: params.source, traceId: activeTraceId() });
      const stored = [];
      for (const { file, document } of readable) {
        const chunks = chunkMarkdown(stripLinkTargets(document!.markdown));
        const url = urlOf(file.filename);
        const result = await deps.documents.store({
          tenantId,
          knowledgeBaseId,
          url,
          title: document!.title,
          markdown: document!.markdown,
          contentHash: sha256Hex(`${document!.title}\n${document!.markdown}`),
          contentType: 'page',
          source: params.source,
          chunks: chunks.map((c) => ({ position: c.position, heading: c.heading, text: c.text, hash: c.hash })),
        });
        stored.push({
          url,
          filename: file.filename,
          title: document!.title,
          format: document!.format,
          ...(document!.pages !== undefined ? { pages: document!.pages } : {}),
          chunks: chunks.length,
          unchanged: !result.changed,
          documentId: result.documentId,
          pending: result.pendingChunkIds.length,
        });
      }
      const toEmbed = stored.filter((s) => s.pending > 0);
      await deps.documents.attachToTask(
        tenantId,
        toEmbed.map((s) => s.documentId),
        taskId,
      );
      await deps.tasks.recordIngest(taskId, {
        source: params.source,
        received: files.length,
        accepted: stored.length,
        unchanged: stored.filter((s) => s.unchanged).length,
        deleted: 0,
        invalid: failed.length,
        toEmbed: toEmbed.length,
      });
      try {
        if (toEmbed.length > 0) {
          // Replaced chunks' old vectors are left to the vectorization sweep, which deletes vectors without a row.
          await deps.producer.enqueueFlow({
            queue: QueueName.aggregate,
            name: 'complete-ingest',
            data: { tenantId, taskId, correlationId: taskId },
            opts: { priority: Priority.NORMAL, jobId: `ingest-${taskId}` },
            children: [
              {
                queue: QueueName.embed,
                name: 'embed-documents',
                data: { tenantId, taskId, documentIds: toEmbed.map((s) => s.documentId), correlationId: taskId },
                opts: { priority: Priority.NORMAL, jobId: `ingest-${taskId}-0`, ignoreDependencyOnFailure: true },
              },
            ],
          });
        } else await deps.tasks.finishIngest(taskId);
      } catch (error) {
        // The documents are stored, not yet indexed: the vectorization sweep indexes them, or a repeat of the upload queues them again.
        await deps.tasks.deleteTask(taskId);
        deps.log.error({ err: error, taskId }, 'could not enqueue document embedding');
        throw new ApiError(503, 'queue_unavailable', 'the documents were stored but could not be queued for embedding; send the request again', {
          headers: { 'Retry-After': '5' },
        });
      }
      res.status(202).json({ taskId, documents: stored.map(({ documentId: _d, pending: _p, ...shown }) => shown), failed });
    },
  );
  return router;
}
