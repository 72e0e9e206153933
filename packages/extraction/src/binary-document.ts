// mammoth and unpdf (pdf.js) are imported on first use: every service imports
// this package, and mammoth alone adds most of a second to a process's start.
import { PermanentError } from '@kbflow/errors';
import { extractPage, type ExtractedPage } from './extract-page.ts';

/** The file formats kbflow extracts besides HTML. */
export type DocumentFormat = 'pdf' | 'docx' | 'markdown' | 'text';

const BY_MEDIA_TYPE: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
};
const BY_EXTENSION: Record<string, DocumentFormat> = { '.pdf': 'pdf', '.docx': 'docx', '.md': 'markdown', '.markdown': 'markdown', '.txt': 'text' };

/**
 * The format of a file from its media type, else (for the generic
 * `application/octet-stream` servers and browsers send) its name's extension;
 * undefined when kbflow does not extract it.
 */
export function documentFormatOf(contentType: string | undefined, name: string | undefined): DocumentFormat | undefined {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (BY_MEDIA_TYPE[media]) return BY_MEDIA_TYPE[media];
  if (media !== '' && media !== 'application/octet-stream' && media !== 'binary/octet-stream') return undefined;
  const path = (name ?? '').split(/[?#]/, 1)[0]!.toLowerCase();
  const dot = path.lastIndexOf('.');
  return dot >= 0 ? BY_EXTENSION[path.slice(dot)] : undefined;
}

/** Why a file could not be read: it fails that one document, with this code and message. */
export class DocumentExtractionError extends PermanentError {
  declare readonly code: 'document_encrypted' | 'document_unreadable' | 'document_too_many_pages' | 'document_empty';

  constructor(code: DocumentExtractionError['code'], message: string) {
    super(code, message);
  }
}

export interface ExtractedDocument extends ExtractedPage {
  format: DocumentFormat;
  /** PDF: the page count. Each page is a `## Page N` section of `markdown`, so chunks keep their page. */
  pages?: number;
}

/** The page a chunk of an extracted PDF is on, read from its heading breadcrumb (`Page 3`). */
export function pageOfHeading(heading: string): number | undefined {
  const match = /(?:^|> )Page (\d{1,6})$/.exec(heading);
  return match ? Number(match[1]) : undefined;
}

function titleFrom(name: string, fallback: string | undefined): string {
  const clean = (fallback ?? '').replace(/\s+/g, ' ').trim();
  if (clean) return clean.slice(0, 300);
  const base = name.split(/[?#]/, 1)[0]!.split('/').filter(Boolean).at(-1) ?? name;
  const stem = base.replace(/\.[A-Za-z0-9]+$/, '');
  try {
    return decodeURIComponent(stem) || name;
  } catch {
    // A malformed %-escape in a file name is kept as it is.
    return stem || name;
  }
}

async function extractPdf(bytes: Uint8Array, name: string, maxPages: number): Promise<ExtractedDocument> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // A copy: pdf.js takes ownership of (detaches) the buffer it is given.
    pdf = await getDocumentProxy(new Uint8Array(bytes));
  } catch (error) {
    const err = error as { name?: string; message?: string };
    if (err.name === 'PasswordException')
      throw new DocumentExtractionError('document_encrypted', `${name} is encrypted (password-protected); kbflow cannot read it`);
    throw new DocumentExtractionError('document_unreadable', `${name} is not a readable PDF (${err.message ?? 'parse error'}); it may be truncated or damaged`);
  }
  try {
    if (pdf.numPages > maxPages)
      throw new DocumentExtractionError(
        'document_too_many_pages',
        `${name} has ${pdf.numPages} pages; at most ${maxPages} are read (KBFLOW_MAX_DOCUMENT_PAGES)`,
      );
    let pages: string[];
    let title: string | undefined;
    try {
      ({ text: pages } = await extractText(pdf, { mergePages: false }));
      const meta = (await pdf.getMetadata().catch(() => undefined)) as { info?: { Title?: unknown } } | undefined;
      title = typeof meta?.info?.Title === 'string' ? meta.info.Title : undefined;
    } catch (error) {
      throw new DocumentExtractionError(
        'document_unreadable',
        `${name}: a page could not be read (${(error as Error).message}); the file may be truncated or damaged`,
      );
    }
    // Lines trimmed one by one (a pattern over whole pages would not be linear).
    const tidy = (text: string) =>
      text
        .split('\n')
        .map((line) => line.trimEnd())
        .join('\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim();
    const sections = pages.map((text, i) => ({ page: i + 1, text: tidy(text) })).filter((p) => p.text !== '');
    if (sections.length === 0)
      throw new DocumentExtractionError('document_empty', `${name} has no extractable text (a scanned PDF needs OCR, which kbflow does not do)`);
    const markdown = sections.map((p) => `## Page ${p.page}\n\n${p.text}`).join('\n\n');
    return {
      format: 'pdf',
      title: titleFrom(name, title ?? sections[0]!.text.split('\n', 1)[0]),
      markdown,
      text: sections.map((p) => p.text).join('\n\n'),
      links: [],
      needsJavaScript: false,
      pages: pdf.numPages,
    };
  } finally {
    // Frees pdf.js's page caches; the document itself is garbage once unreferenced.
    await pdf.cleanup().catch(() => undefined);
  }
}

async function extractDocx(bytes: Uint8Array, name: string): Promise<ExtractedDocument> {
  const { default: mammoth } = await import('mammoth');
  let html: string;
  try {
    // mammoth maps Word's heading styles to <h1>-<h6>: the chunker's sections.
    ({ value: html } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }));
  } catch (error) {
    throw new DocumentExtractionError(
      'document_unreadable',
      `${name} is not a readable DOCX (${(error as Error).message}); it may be truncated, damaged or encrypted`,
    );
  }
  const page = extractPage(`<!doctype html><html><head></head><body><main>${html}</main></body></html>`, `file:///${encodeURIComponent(name)}`);
  if (page.text.trim() === '') throw new DocumentExtractionError('document_empty', `${name} has no text`);
  const firstHeading = page.markdown.split('\n').find((line) => line.startsWith('#'));
  let heading = firstHeading;
  while (heading?.startsWith('#')) heading = heading.slice(1);
  return { ...page, format: 'docx', title: titleFrom(name, heading?.trim()), links: [] };
}

/**
 * Extracts a PDF (text per page, each page a `## Page N` section), a DOCX
 * (through mammoth to HTML, headings kept) or a Markdown / text file into
 * the same shape as a crawled HTML page. A file that cannot be read
 * (encrypted, truncated, over `maxPages`) throws a
 * {@link DocumentExtractionError} naming why.
 */
export async function extractDocument(bytes: Uint8Array, format: DocumentFormat, opts: { name: string; maxPages: number }): Promise<ExtractedDocument> {
  if (format === 'pdf') return extractPdf(bytes, opts.name, opts.maxPages);
  if (format === 'docx') return extractDocx(bytes, opts.name);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes).replace(/\r\n?/g, '\n').trim();
  if (text === '') throw new DocumentExtractionError('document_empty', `${opts.name} is empty`);
  const firstLine = text.split('\n', 1)[0]!;
  const title = titleFrom(opts.name, format === 'markdown' && firstLine.startsWith('#') ? firstLine.replace(/^#+\s*/, '') : undefined);
  return { format, title, markdown: text, text, links: [], needsJavaScript: false };
}
