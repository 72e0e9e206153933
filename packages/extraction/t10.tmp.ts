import { parseDocument } from './src/parse-document.ts';
import { findMainContent } from './src/main-content.ts';
import { plainText } from './src/plain-text.ts';
import { toMarkdown } from './src/markdown.ts';
const depth = +(process.argv[2] ?? 5000);
const html = `<html><body>${'<div><font>'.repeat(depth)}deep text${'</font></div>'.repeat(10)}<p>unclosed <b>bold`;
let t = performance.now();
const d = parseDocument(html);
console.log('parse', performance.now() - t, d.body.textContent?.length); t = performance.now();
const m = findMainContent(d);
console.log('main', performance.now() - t, m.source, m.root.localName); t = performance.now();
console.log(JSON.stringify(plainText(m.root)).slice(0, 100), performance.now() - t); t = performance.now();
try { console.log(JSON.stringify(toMarkdown(m.root)).slice(0, 100), performance.now() - t); } catch (e) { console.log('md error', String(e)); }
