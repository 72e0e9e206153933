import fs from 'node:fs';
import { parseDocument } from './src/parse-document.ts';
import { findMainContent } from './src/main-content.ts';
import { toMarkdown } from './src/markdown.ts';
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/contents.html', 'utf8');
const roots = Array.from({ length: 3 }, () => findMainContent(parseDocument(html)).root);
const t = performance.now();
for (const r of roots) toMarkdown(r);
console.log((performance.now() - t) / 3);
