import fs from 'node:fs';
import path from 'node:path';
import { extractPage, chunkMarkdown } from './src/index.ts';
const root = '/work/shared/data/docs-corpus/python-3.11-html';
const files = (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter(f => f.endsWith('.html')).sort();
let te = 0, tc = 0; const slow: [number, string][] = [];
for (const f of files) {
  const html = fs.readFileSync(path.join(root, f), 'utf8');
  let t = performance.now();
  const p = extractPage(html, 'https://docs.python.org/3.11/' + f);
  te += performance.now() - t; t = performance.now();
  chunkMarkdown(p.markdown);
  const d = performance.now() - t; tc += d; slow.push([d, f]);
}
console.log({ te, tc }); slow.sort((a, b) => b[0] - a[0]); console.log(slow.slice(0, 5));
