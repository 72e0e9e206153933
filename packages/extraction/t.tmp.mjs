import { parseHTML } from 'linkedom';
const { document } = parseHTML('<p>a &lt;b&gt; &amp; c</p>text &lt; here<!--c-->');
for (const n of document.childNodes) console.log(n.nodeType, JSON.stringify(n.toString()), n.outerHTML);
const d2 = parseHTML('<html><body><noscript><p>Enable JavaScript</p></noscript><svg><title>icon</title></svg><div id=root></div></body></html>').document;
console.log(d2.querySelector('noscript').textContent, d2.querySelector('noscript').children.length, d2.querySelector('svg title')?.localName, d2.querySelector('#root').localName);
console.log(d2.documentElement.children.map(c=>c.localName));
