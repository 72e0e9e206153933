import { parseHTML } from 'linkedom';
import { Readability } from '@mozilla/readability';
import fs from 'node:fs';
const html = fs.readFileSync('/work/shared/data/docs-corpus/python-3.11-html/library/itertools.html', 'utf8');
for (let i=0;i<3;i++){ const { document } = parseHTML(html); const t=performance.now(); new Readability(document).parse(); console.log(performance.now()-t); }
