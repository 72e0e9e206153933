import fs from 'node:fs';
import { extractPage } from './src/index.ts';
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/tutorial/datastructures.html', 'utf8');
const p = extractPage(html, 'https://docs.python.org/3.11/tutorial/datastructures.html');
console.log(p.links);
for (const s of ['Previous topic', 'Next topic', 'This Page', 'Show Source', 'Navigation', 'Copyright', 'Last updated', 'Found a bug', 'Table of Contents', 'Report a Bug', '¶', 'Theme']) console.log(s, p.markdown.includes(s), p.text.includes(s));
console.log(p.text.slice(0, 600));
