import fs from 'node:fs';
import path from 'node:path';
import { extractPage } from './src/index.ts';
const root = '/work/shared/data/docs-corpus/python-3.11-html';
const files = (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter(f => f.endsWith('.html')).sort();
const markers = ['¶', 'Previous topic', 'Next topic', 'Show Source', '\\>>>', 'Quick search', 'This Page', 'Report a Bug', 'Navigation', 'Last updated on', 'Found a bug', '© Copyright', 'Copyright'];
const hits: Record<string, string[]> = {};
let titles = 0, langs = 0, code = 0; const noLinks: string[] = []; const shortMd: string[] = [];
for (const f of files) {
  const p = extractPage(fs.readFileSync(path.join(root, f), 'utf8'), 'https://docs.python.org/3.11/' + f);
  for (const m of markers) if (p.markdown.includes(m)) (hits[m] ??= []).push(f);
  if (p.title.endsWith('Python 3.11.2 documentation')) titles++;
  if (p.language === 'en') langs++;
  if (p.markdown.includes('```')) code++;
  if (p.links.length === 0) noLinks.push(f);
  if (p.markdown.length < 200) shortMd.push(f + ':' + p.markdown.length);
}
console.log(files.length, titles, langs, code, noLinks, shortMd);
for (const [m, fs2] of Object.entries(hits)) console.log(m, fs2.length, fs2.slice(0, 5));
