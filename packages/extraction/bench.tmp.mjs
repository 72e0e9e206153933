import { parseHTML } from 'linkedom';
import { Readability } from '@mozilla/readability';
import TurndownService from 'turndown';
import fs from 'node:fs';
import path from 'node:path';
const root = '/work/shared/data/docs-corpus/python-3.11-html';
const files = fs.readdirSync(root, { recursive: true }).filter(f => f.endsWith('.html')).map(f => path.join(root, f));
const td = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
let tp=0,tr=0,tt=0, fails=[], bytes=0; const per=[];
for (const f of files) {
  const html = fs.readFileSync(f, 'utf8'); bytes+=html.length;
  let t0 = performance.now();
  const { document } = parseHTML(html);
  let t1 = performance.now();
  let r; try { r = new Readability(document, {}).parse(); } catch (e) { fails.push([f, String(e)]); }
  let t2 = performance.now();
  const md = r ? td.turndown(r.content) : '';
  let t3 = performance.now();
  if (!r || md.length < 50) fails.push([f, 'empty', md.length]);
  tp+=t1-t0; tr+=t2-t1; tt+=t3-t2; per.push([t3-t0, f, html.length]);
}
const n = files.length;
console.log({ n, parse: tp/n, read: tr/n, td: tt/n, avgKB: bytes/n/1024 });
per.sort((a,b)=>b[0]-a[0]); console.log(per.slice(0,8));
console.log(fails.length, fails.slice(0,40));
