import fs from 'node:fs';
import { parseDocument } from './src/parse-document.ts';
import { findMainContent } from './src/main-content.ts';
import { toMarkdown } from './src/markdown.ts';
import { plainText } from './src/plain-text.ts';
import { collectLinks, absolutizeReferences } from './src/page-metadata.ts';
import { readJsSignals } from './src/js-detection.ts';
const f = process.argv[2]!;
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/' + f, 'utf8');
const T: Record<string, number> = {};
const N = 10;
for (let i = 0; i < N + 3; i++) {
  const lap = (k: string, t0: number) => { if (i >= 3) T[k] = (T[k] ?? 0) + (performance.now() - t0) / N; return performance.now(); };
  let t = performance.now();
  const d = parseDocument(html); t = lap('parse', t);
  collectLinks(d, 'https://x.org/a/'); t = lap('links', t);
  readJsSignals(d); t = lap('js', t);
  const { root } = findMainContent(d); t = lap('main', t);
  absolutizeReferences(root, 'https://x.org/a/'); t = lap('abs', t);
  toMarkdown(root); t = lap('md', t);
  plainText(root); t = lap('text', t);
}
console.log(T);
