import fs from 'node:fs';
import path from 'node:path';
import { extractPage, chunkMarkdown } from './src/index.ts';
import { fenceOpenedBy, closesFence } from './src/fences.ts';
const root = '/work/shared/data/docs-corpus/python-3.11-html';
const files = (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter(f => f.endsWith('.html')).sort();
let n = 0, over = 0, unbalanced = 0, empty: string[] = [], tc = 0, src: Record<string, number> = {};
const jsTrue: string[] = [];
for (const f of files) {
  const p = extractPage(fs.readFileSync(path.join(root, f), 'utf8'), 'https://docs.python.org/3.11/' + f);
  if (p.needsJavaScript) jsTrue.push(f);
  if (p.markdown.length === 0) empty.push(f);
  for (const max of [300, 1500]) {
    const cs = chunkMarkdown(p.markdown, { maxChars: max });
    tc += cs.length;
    cs.forEach((c, i) => {
      if (c.position !== i) throw new Error('pos');
      if (c.charCount > max) { over++; }
      let fence: string | null = null;
      for (const line of c.text.split('\n')) { if (fence) { if (closesFence(line, fence)) fence = null; } else fence = fenceOpenedBy(line); }
      if (fence) { unbalanced++; if (unbalanced < 3) console.log('UNBAL', f, max, c.text.slice(0, 400)); }
    });
  }
  n++;
}
console.log({ n, tc, over, unbalanced, empty, jsTrue });
