import fs from 'node:fs';
import { extractPage, chunkMarkdown } from './src/index.ts';
const f = process.argv[2]!;
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/' + f, 'utf8');
const p = extractPage(html, 'https://docs.python.org/3.11/' + f);
const chunks = chunkMarkdown(p.markdown, { maxChars: +(process.argv[3] ?? 1500) });
console.log(chunks.length, Math.max(...chunks.map(c => c.charCount)));
for (const c of chunks.slice(0, +(process.argv[4] ?? 6))) console.log(`----- #${c.position} [${c.heading}] ${c.charCount}\n${c.text}`);
