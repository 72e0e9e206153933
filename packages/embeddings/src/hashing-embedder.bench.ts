/**
 * Speed and retrieval quality of the HashingEmbedder on real documentation:
 * `node packages/embeddings/src/hashing-embedder.bench.ts` from the project root.
 * Speed: 1,500-character chunks of the Python 3.11 documentation in
 * shared/data/docs-corpus (tags stripped), one core, a fresh embedder per
 * size so the first pass shows a cold word cache. Quality: each of the 501
 * questions of shared/data/qa against all distinct contexts; recall@1,
 * recall@5 and MRR of the context it was written from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HashingEmbedder } from './hashing-embedder.ts';
import { dot } from './vector.ts';

const SHARED_DATA = new URL('../../../../shared/data/', import.meta.url);
const QA = fileURLToPath(new URL('qa/rhdh-1.8-docs-qa-501/', SHARED_DATA));
const DOCS = fileURLToPath(new URL('docs-corpus/python-3.11-html/', SHARED_DATA));
const CHUNK_CHARS = 1500;
const MAX_CHUNKS = 10_000;
const ROUNDS = 3;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      rows.push([...row, field]);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

function benchSpeed(): void {
  const pages = readdirSync(DOCS, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.html'));
  const markup = /<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>|<[^>]+>/g;
  const text = pages
    .map((page) => readFileSync(`${DOCS}${page}`, 'utf8').replace(markup, ' '))
    .join('\n')
    .replace(/\s+/g, ' ');
  const chunks: string[] = [];
  for (let i = 0; i + CHUNK_CHARS <= text.length && chunks.length < MAX_CHUNKS; i += CHUNK_CHARS) {
    chunks.push(text.slice(i, i + CHUNK_CHARS));
  }
  for (const dimensions of [384, 1024]) {
    const embedder = new HashingEmbedder({ dimensions });
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      for (const chunk of chunks) embedder.embedOne(chunk);
      rates.push(chunks.length / ((performance.now() - started) / 1000));
    }
    const [first, ...rest] = rates.map((rate) => Math.round(rate));
    out(`speed ${dimensions}d: ${chunks.length} chunks x ${CHUNK_CHARS} chars; first pass ${first}/s, then ${rest.join(', ')}/s`);
  }
}

function benchQuality(): void {
  const rows = parseCsv(readFileSync(`${QA}dataset/dataset-ClassificationStrategy.csv`, 'utf8'))
    .slice(1)
    .filter((row) => row.length > 3);
  const contexts = [...new Set(rows.map((row) => row[0]!))];
  for (const dimensions of [384, 1024]) {
    const embedder = new HashingEmbedder({ dimensions });
    const contextVectors = contexts.map((context) => embedder.embedOne(context));
    let top1 = 0;
    let top5 = 0;
    let reciprocalRanks = 0;
    for (const row of rows) {
      const question = embedder.embedOne(row[2]!);
      const target = contexts.indexOf(row[0]!);
      const targetScore = dot(question, contextVectors[target]!);
      const rank = contextVectors.filter((vector, i) => i !== target && dot(question, vector) > targetScore).length;
      if (rank === 0) top1++;
      if (rank < 5) top5++;
      reciprocalRanks += 1 / (rank + 1);
    }
    const n = rows.length;
    out(
      `quality ${dimensions}d: ${n} questions, ${contexts.length} contexts; ` +
        `recall@1 ${(top1 / n).toFixed(3)}, recall@5 ${(top5 / n).toFixed(3)}, MRR ${(reciprocalRanks / n).toFixed(3)}`,
    );
  }
}

benchSpeed();
benchQuality();
