import fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.resolve('linkedom'));
const { Parser } = await import(require.resolve('htmlparser2'));
const { parseHTML } = await import('linkedom');
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/library/os.html', 'utf8');
for (let r = 0; r < 3; r++) {
let t = performance.now(); let n = 0;
for (let i = 0; i < 5; i++) { const p = new Parser({ onopentag() { n++; } }); p.write(html); p.end(); }
const a = (performance.now() - t) / 5;
t = performance.now();
for (let i = 0; i < 5; i++) parseHTML(html);
console.log('htmlparser2', a, 'linkedom', (performance.now() - t) / 5, n/5);
}
