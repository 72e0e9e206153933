import fs from 'node:fs';
import { Readability } from '@mozilla/readability';
import { parseDocument } from './src/parse-document.ts';
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/tutorial/datastructures.html', 'utf8');
const d = parseDocument(html);
for (let i = 0; i < 3; i++) { const t = performance.now(); const c = d.cloneNode(true) as Document; console.log('clone', performance.now() - t, c.body.textContent?.length === d.body.textContent?.length, c.documentElement.localName); }
const depth = 5000;
const deep = parseDocument(`<html><body>${'<div><font>'.repeat(depth)}deep text${'</font></div>'.repeat(10)}<p>unclosed <b>bold`);
try { new Readability(deep).parse(); } catch (e) { console.log(String(e).slice(0, 200), (e as Error).stack?.split('\n').slice(0, 6).join('\n')); }
