import { chunkMarkdown, sha256Hex } from '@kbflow/extraction';

/** The case fields its searchable document is written from. */
export interface CaseContent {
  externalId: string;
  subject: string;
  description: string;
  resolution: string;
  status: string;
  priority: string;
  product: string;
}

/** A case's document (content type `case`, source `cases`) and its chunks. */
export interface CaseDocument {
  url: string;
  title: string;
  markdown: string;
  /** Over title and Markdown only: a change of status or category alone re-embeds nothing. */
  contentHash: string;
  metadata: { status: string; priority: string; category: string; product: string };
  chunks: { position: number; heading: string; text: string; hash: string }[];
}

/** The document key of a case within its knowledge base. */
function caseUrl(externalId: string): string {
  return `case://${externalId}`;
}

/** One line, so a subject cannot open a Markdown block of its own. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Renders a case as Markdown: the subject as the title, the product (so a
 * question naming it finds the case), the description, and the resolution
 * under its own heading, which the chunker carries into every chunk's
 * breadcrumb ("Subject > Resolution").
 */
export function buildCaseDocument(c: CaseContent, category: string): CaseDocument {
  const title = oneLine(c.subject) || c.externalId;
  const parts = [`# ${title}`];
  const product = oneLine(c.product);
  if (product !== '') parts.push(`Product: ${product}`);
  if (c.description.trim() !== '') parts.push(c.description.trim());
  if (c.resolution.trim() !== '') parts.push('## Resolution', c.resolution.trim());
  const markdown = parts.join('\n\n');
  return {
    url: caseUrl(c.externalId),
    title,
    markdown,
    contentHash: sha256Hex(`${title}\n${markdown}`),
    metadata: { status: c.status, priority: c.priority, category, product: c.product },
    // Cases are short: a one-line resolution is the most useful part and must not fall under the default minimum.
    chunks: chunkMarkdown(markdown, { minChars: 1 }).map((ch) => ({ position: ch.position, heading: ch.heading, text: ch.text, hash: ch.hash })),
  };
}
