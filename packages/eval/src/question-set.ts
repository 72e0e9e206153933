import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { parsePythonStringList } from './python-literal.ts';
import { trimEndOf } from '@kbflow/extraction';

/**
 * The one question-set layout supported: a Ragas test set exported by the
 * lightspeed-evaluation tooling, with the corpus it was generated from.
 *
 * ```
 * <dir>/dataset/dataset-ClassificationStrategy.csv   one question per row
 * <dir>/<corpus>/<guide>/master.txt                  one guide per folder
 * ```
 *
 * The CSV has a header row with at least the columns in
 * {@link REQUIRED_COLUMNS}; `data.context` is the Python `repr()` of the list
 * of passages the question was written from.
 */
export const QUESTION_SET_FORMAT = 'ragas-classification-csv';
export const QUESTIONS_FILE = path.join('dataset', 'dataset-ClassificationStrategy.csv');
export const GUIDE_FILE = 'master.txt';
export const REQUIRED_COLUMNS = ['data.context', 'data.user_input', 'metadata.classification.category', 'metadata.uuid'] as const;

const LAYOUT = `expected ${QUESTION_SET_FORMAT}: <dir>/${QUESTIONS_FILE} (columns ${REQUIRED_COLUMNS.join(', ')}) and <dir>/<corpus>/<guide>/${GUIDE_FILE}`;

/** A question set that is not in the supported layout; the message says what is wrong and what is expected. */
export class QuestionSetFormatError extends Error {
  constructor(dir: string, problem: string) {
    super(`${dir}: ${problem}; ${LAYOUT}`);
    this.name = 'QuestionSetFormatError';
  }
}

/** One document of the corpus, ingested as a record `{ id, title, body }`. */
export interface Guide {
  id: string;
  title: string;
  body: string;
}

export interface Question {
  id: string;
  question: string;
  category: string;
  /** The passages the question was written from (flattened Markdown). */
  contexts: string[];
  /** The reference answer, when the set has one. */
  reference?: string;
}

export interface QuestionSet {
  name: string;
  dir: string;
  format: typeof QUESTION_SET_FORMAT;
  guides: Guide[];
  questions: Question[];
}

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The guide folders of the one corpus folder beside `dataset/`. */
async function findGuides(dir: string): Promise<{ corpus: string; ids: string[] }> {
  const corpora: { corpus: string; ids: string[] }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'dataset') continue;
    const corpus = path.join(dir, entry.name);
    const ids: string[] = [];
    for (const sub of await readdir(corpus, { withFileTypes: true })) {
      if (sub.isDirectory() && (await isFile(path.join(corpus, sub.name, GUIDE_FILE)))) ids.push(sub.name);
    }
    if (ids.length > 0) corpora.push({ corpus, ids: ids.sort() });
  }
  if (corpora.length === 0) throw new QuestionSetFormatError(dir, `no corpus folder with <guide>/${GUIDE_FILE} files`);
  if (corpora.length > 1) throw new QuestionSetFormatError(dir, `several corpus folders (${corpora.map((c) => path.basename(c.corpus)).join(', ')}); keep one`);
  return corpora[0]!;
}

/** A guide's title: its first Markdown heading, else its folder name. */
function titleOf(id: string, body: string): string {
  // Line by line with an anchored prefix: the one-pattern form
  // /^#{1,6}[ \t]+(.+?)[ \t#]*$/m backtracked quadratically on long lines.
  for (const line of body.split(/\r?\n/)) {
    const prefix = /^#{1,6}[ \t]+/.exec(line);
    const title = prefix ? trimEndOf(line.slice(prefix[0].length), ' \t#').trim() : '';
    if (title !== '') return title;
  }
  return id;
}

function parseQuestions(dir: string, csv: string): Question[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(csv, { columns: true, skip_empty_lines: true, bom: true });
  } catch (error) {
    throw new QuestionSetFormatError(dir, `${QUESTIONS_FILE} is not valid CSV (${(error as Error).message})`);
  }
  if (rows.length === 0) throw new QuestionSetFormatError(dir, `${QUESTIONS_FILE} has no rows`);
  const missing = REQUIRED_COLUMNS.filter((c) => !(c in rows[0]!));
  if (missing.length > 0) throw new QuestionSetFormatError(dir, `${QUESTIONS_FILE} lacks the column(s) ${missing.join(', ')}`);
  return rows.map((row, index) => {
    const where = `${QUESTIONS_FILE} row ${index + 1}`;
    let contexts: string[];
    try {
      contexts = parsePythonStringList(row['data.context']!);
    } catch (error) {
      throw new QuestionSetFormatError(dir, `${where}: data.context is ${(error as Error).message}`);
    }
    const question = row['data.user_input']!.trim();
    if (question === '') throw new QuestionSetFormatError(dir, `${where}: data.user_input is empty`);
    if (contexts.length === 0) throw new QuestionSetFormatError(dir, `${where}: data.context is an empty list`);
    const reference = row['data.response']?.trim();
    return {
      id: row['metadata.uuid']!.trim() || `row-${index + 1}`,
      question,
      category: row['metadata.classification.category']!.trim() || 'uncategorized',
      contexts,
      ...(reference ? { reference } : {}),
    };
  });
}

/**
 * Loads a question set directory in the {@link QUESTION_SET_FORMAT} layout:
 * its questions and the guides of its corpus.
 *
 * @throws QuestionSetFormatError when the directory is in another layout.
 */
export async function loadQuestionSet(dir: string): Promise<QuestionSet> {
  const root = path.resolve(dir);
  if (!(await isDirectory(root))) throw new QuestionSetFormatError(root, 'not a directory');
  const csvPath = path.join(root, QUESTIONS_FILE);
  if (!(await isFile(csvPath))) throw new QuestionSetFormatError(root, `${QUESTIONS_FILE} is missing`);
  const questions = parseQuestions(root, await readFile(csvPath, 'utf8'));
  const { corpus, ids } = await findGuides(root);
  const guides = await Promise.all(
    ids.map(async (id) => {
      const body = await readFile(path.join(corpus, id, GUIDE_FILE), 'utf8');
      return { id, title: titleOf(id, body), body };
    }),
  );
  return { name: path.basename(root), dir: root, format: QUESTION_SET_FORMAT, guides, questions };
}
