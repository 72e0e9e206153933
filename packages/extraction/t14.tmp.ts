import fs from 'node:fs';
import path from 'node:path';
import { Readability } from '@mozilla/readability';
import { parseDocument } from './src/parse-document.ts';
import { findMainContent } from './src/main-content.ts';
import { plainText } from './src/plain-text.ts';
const root = '/work/shared/data/docs-corpus/python-3.11-html';
const files = (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter(f => f.endsWith('.html')).sort();
let tr = 0, tc = 0, nulls = 0, h1Lost = 0; const ratios: [number, string][] = [];
for (const f of files) {
  const html = fs.readFileSync(path.join(root, f), 'utf8');
  let t = performance.now();
  const d1 = parseDocument(html);
  const { root: c } = findMainContent(d1);
  tc += performance.now() - t;
  const ct = plainText(c);
  t = performance.now();
  const d2 = parseDocument(html);
  let r: ReturnType<Readability<Element>['parse']> = null;
  try { r = new Readability<Element>(d2, { serializer: (n) => n as Element }).parse(); } catch { }
  tr += performance.now() - t;
  if (!r?.content) { nulls++; continue; }
  const rt = plainText(r.content);
  if (c.getElementsByTagName('h1').length > 0 && r.content.getElementsByTagName('h1').length === 0) h1Lost++;
  ratios.push([rt.length / Math.max(1, ct.length), f]);
}
ratios.sort((a, b) => a[0] - b[0]);
console.log({ n: files.length, containerMeanMs: tc / files.length, readabilityMeanMs: tr / files.length, nulls, h1Lost });
console.log('lowest readability/container text ratios', ratios.slice(0, 12).map(([r, f]) => `${f}:${r.toFixed(2)}`));
console.log('median ratio', ratios[Math.floor(ratios.length / 2)]);
console.log('pages where readability kept < 90%', ratios.filter(([r]) => r < 0.9).length);
