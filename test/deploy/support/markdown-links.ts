// Links and headings of the repository's own Markdown (README.md, docs/*.md).
// Hand-written rather than a Markdown parser: the pages use a narrow subset
// (ATX headings, inline links, fenced code), and a parser dependency for one
// test would cost more than these few lines. Every pattern is linear.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface MarkdownLink {
  file: string;
  line: number;
  target: string;
}

/** The page's lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (line.trimStart().startsWith('```')) fenced = !fenced;
    else if (!fenced) out.push({ text: line, line: i + 1 });
  });
  return out;
}

/** Inline code spans removed, so `[x](y)` written as code is not a link. */
function withoutCode(line: string): string {
  return line.replace(/`[^`]*`/g, '');
}

/** Every inline link's target (`[text](target)`), outside code. */
export function markdownLinks(file: string, text: string): MarkdownLink[] {
  return proseLines(text).flatMap(({ text: line, line: n }) =>
    [...withoutCode(line).matchAll(/\]\(([^()\s]+)\)/g)].map((m) => ({ file, line: n, target: m[1] as string })),
  );
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a page's headings make, with GitHub's -1, -2 suffixes for repeats. */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { text: line } of proseLines(text)) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = headingSlug(heading);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/**
 * Links that do not resolve: a relative path to no file, or an anchor no
 * heading of the target Markdown page makes. External links are not fetched.
 */
export function brokenLinks(links: MarkdownLink[], read: (file: string) => string = (f) => readFileSync(f, 'utf8')): string[] {
  const problems: string[] = [];
  for (const link of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue;
    const hash = link.target.indexOf('#');
    const filePart = hash >= 0 ? link.target.slice(0, hash) : link.target;
    const anchor = hash >= 0 ? link.target.slice(hash + 1) : '';
    const target = filePart === '' ? link.file : path.resolve(path.dirname(link.file), decodeURIComponent(filePart));
    const where = `${link.file}:${link.line} -> ${link.target}`;
    if (!existsSync(target)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor && target.endsWith('.md') && statSync(target).isFile() && !headingAnchors(read(target)).has(anchor)) {
      problems.push(`${where}: no heading makes #${anchor}`);
    }
  }
  return problems;
}
