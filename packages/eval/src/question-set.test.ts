import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadQuestionSet, QuestionSetFormatError } from './question-set.ts';

/** The shipped question set beside the repository (`../shared/data`), never copied in. */
const RHDH = path.resolve(import.meta.dirname, '../../../../shared/data/qa/rhdh-1.8-docs-qa-501');

const HEADER = 'data.context,data.response,data.user_input,metadata.classification.category,metadata.uuid';

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

/** A question set directory with the given CSV and guides (`{ corpus: { guide: text } }`). */
async function makeSet(csv: string | undefined, corpora: Record<string, Record<string, string>> = { docs: { intro: '# Intro\n\nHello.' } }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kbflow-qset-'));
  dirs.push(dir);
  if (csv !== undefined) {
    await mkdir(path.join(dir, 'dataset'));
    await writeFile(path.join(dir, 'dataset', 'dataset-ClassificationStrategy.csv'), csv);
  }
  for (const [corpus, guides] of Object.entries(corpora)) {
    for (const [guide, text] of Object.entries(guides)) {
      await mkdir(path.join(dir, corpus, guide), { recursive: true });
      await writeFile(path.join(dir, corpus, guide, 'master.txt'), text);
    }
  }
  return dir;
}

describe('loadQuestionSet on the shipped RHDH 1.8 set', () => {
  it('reads its 501 questions and 28 guides', async () => {
    const set = await loadQuestionSet(RHDH);
    expect(set.format).toBe('ragas-classification-csv');
    expect(set.name).toBe('rhdh-1.8-docs-qa-501');
    expect(set.questions).toHaveLength(501);
    expect(set.guides).toHaveLength(28);
    const counts: Record<string, number> = {};
    for (const q of set.questions) counts[q.category] = (counts[q.category] ?? 0) + 1;
    expect(counts).toEqual({ plugins: 130, installation: 108, configuration: 103, kubernetes: 47, authentication: 37, rbac: 34, catalog: 29, ci_cd: 13 });
    const first = set.questions[0]!;
    expect(first.id).toBe('07144e84-f3d8-4568-8bf3-de0c4ccc420e');
    expect(first.contexts).toHaveLength(1);
    expect(first.contexts[0]).toMatch(/^# Configuring dynamic plugins # Installing Ansible plug-ins/);
    expect(first.reference).toMatch(/^Ansible plug-ins for Red Hat Developer Hub deliver/);
    expect(set.guides.find((g) => g.id === 'audit-log')).toMatchObject({ title: 'Audit logs in Red Hat Developer Hub' });
    // Python escapes in the context are decoded: no `\'` is left.
    expect(set.questions.some((q) => q.contexts[0]!.includes("\\'"))).toBe(false);
  });
});

describe('loadQuestionSet refuses other layouts, naming the problem and the expected one', () => {
  const good = `${HEADER}\n"['# Intro Hello.']",Hello.,What is it?,misc,u1\n`;

  it('a path that is not a directory', async () => {
    await expect(loadQuestionSet(path.join(tmpdir(), 'kbflow-no-such-set'))).rejects.toThrow(/not a directory; expected ragas-classification-csv/);
  });

  it('a directory without dataset/dataset-ClassificationStrategy.csv', async () => {
    const dir = await makeSet(undefined);
    const error = await loadQuestionSet(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuestionSetFormatError);
    expect((error as Error).message).toMatch(/dataset-ClassificationStrategy\.csv is missing/);
  });

  it('a CSV without the required columns', async () => {
    const dir = await makeSet('question,answer\nWhat?,That.\n');
    await expect(loadQuestionSet(dir)).rejects.toThrow(
      /lacks the column\(s\) data\.context, data\.user_input, metadata\.classification\.category, metadata\.uuid/,
    );
  });

  it('a context that is not a Python list of strings, naming the row', async () => {
    const dir = await makeSet(`${HEADER}\n"['ok']",a,Q1?,misc,u1\n"{""not"": ""a list""}",b,Q2?,misc,u2\n`);
    await expect(loadQuestionSet(dir)).rejects.toThrow(/row 2: data\.context is not a Python list of strings/);
  });

  it('an empty question', async () => {
    const dir = await makeSet(`${HEADER}\n"['ok']",a, ,misc,u1\n`);
    await expect(loadQuestionSet(dir)).rejects.toThrow(/row 1: data\.user_input is empty/);
  });

  it('no corpus folder of <guide>/master.txt', async () => {
    const dir = await makeSet(good, {});
    await expect(loadQuestionSet(dir)).rejects.toThrow(/no corpus folder with <guide>\/master\.txt files/);
  });

  it('two corpus folders', async () => {
    const dir = await makeSet(good, { a: { g1: '# One' }, b: { g2: '# Two' } });
    await expect(loadQuestionSet(dir)).rejects.toThrow(/several corpus folders \(a, b\)/);
  });

  it('accepts a minimal set in the layout', async () => {
    const dir = await makeSet(good);
    const set = await loadQuestionSet(dir);
    expect(set.questions).toEqual([{ id: 'u1', question: 'What is it?', category: 'misc', contexts: ['# Intro Hello.'], reference: 'Hello.' }]);
    expect(set.guides).toEqual([{ id: 'intro', title: 'Intro', body: '# Intro\n\nHello.' }]);
  });
});
