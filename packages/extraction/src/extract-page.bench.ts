// Times extractPage over every page of the Python 3.11 docs corpus:
//   node packages/extraction/src/extract-page.bench.ts [rounds] [corpus-dir]
// Speed targets live here, never in timed unit tests (STYLE.md). Each page
// keeps its fastest round: on a shared machine the slower rounds measure the
// neighbours and the garbage collector, not the extractor.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { extractPage } from './extract-page.ts';

const DEFAULT_CORPUS = path.resolve(import.meta.dirname, '../../../../shared/data/docs-corpus/python-3.11-html');
const WARMUP_PAGES = 20;

const rounds = Math.max(1, Number.parseInt(process.argv[2] ?? '3', 10) || 1);
const corpus = process.argv[3] ?? DEFAULT_CORPUS;
const pages = readdirSync(corpus, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.html'))
  .sort()
  .map((file) => ({ file, html: readFileSync(path.join(corpus, file), 'utf8') }));

for (const page of pages.slice(0, WARMUP_PAGES)) extractPage(page.html, `https://docs.python.org/3.11/${page.file}`);

const timings = pages.map((page) => ({ file: page.file, kb: page.html.length / 1024, ms: Infinity }));
let firstRoundTotal = 0;
for (let round = 0; round < rounds; round++) {
  pages.forEach((page, i) => {
    const started = performance.now();
    extractPage(page.html, `https://docs.python.org/3.11/${page.file}`);
    const ms = performance.now() - started;
    if (round === 0) firstRoundTotal += ms;
    timings[i]!.ms = Math.min(timings[i]!.ms, ms);
  });
}

const sorted = timings.map((timing) => timing.ms).sort((a, b) => a - b);
const quantile = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const total = sorted.reduce((sum, ms) => sum + ms, 0);
const typical = timings.filter((timing) => timing.kb >= 30 && timing.kb <= 100);
const typicalMean = typical.reduce((sum, timing) => sum + timing.ms, 0) / Math.max(typical.length, 1);
const slowest = [...timings].sort((a, b) => b.ms - a.ms).slice(0, 5);

process.stdout.write(
  `${JSON.stringify(
    {
      pages: timings.length,
      rounds,
      firstRoundMeanMs: round(firstRoundTotal / timings.length),
      meanMs: round(total / timings.length),
      p50Ms: round(quantile(0.5)),
      p90Ms: round(quantile(0.9)),
      maxMs: round(quantile(1)),
      typical30to100KbPages: typical.length,
      typical30to100KbMeanMs: round(typicalMean),
      slowest: slowest.map((timing) => ({ file: timing.file, kb: round(timing.kb), ms: round(timing.ms) })),
    },
    null,
    2,
  )}\n`,
);

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
