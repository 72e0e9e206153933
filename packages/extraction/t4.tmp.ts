import fs from 'node:fs';
import TurndownService from 'turndown';
import { parseDocument } from './src/parse-document.ts';
import { findMainContent } from './src/main-content.ts';
const f = process.argv[2]!;
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/' + f, 'utf8');
const td = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
const d = parseDocument(html);
const { root } = findMainContent(d);
const inner = root.innerHTML;
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  for (let i = 0; i < 5; i++) td.turndown(root as any);
  const a = (performance.now() - t) / 5;
  t = performance.now();
  for (let i = 0; i < 5; i++) td.turndown(root.innerHTML);
  const b = (performance.now() - t) / 5;
  t = performance.now();
  for (let i = 0; i < 5; i++) root.cloneNode(true);
  const c = (performance.now() - t) / 5;
  console.log({ linkedomNode: a, dominoString: b, clone: c });
}
