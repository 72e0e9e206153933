import fs from 'node:fs';
import { parseDocument } from './src/parse-document.ts';
import { forEachElement, classTokens } from './src/dom-walk.ts';
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/tutorial/datastructures.html', 'utf8');
const d = parseDocument(html);
let n = 0, hl = 0; const names: Record<string, number> = {};
forEachElement(d, (e) => { n++; names[e.localName] = (names[e.localName] ?? 0) + 1; if (classTokens(e).includes('headerlink')) hl++; return true; });
console.log(n, hl, d.querySelectorAll('*').length, d.querySelectorAll('.headerlink').length, names);
