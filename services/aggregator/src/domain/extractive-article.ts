import { trimEndOf, trimEndWhere, trimStartOf } from '@kbflow/extraction';
import { contentTokensOf, jaccard } from './text-similarity.ts';

/** A case an article is written from. */
export interface ArticleSourceCase {
  caseId: string;
  externalId: string;
  subject: string;
  /** The description with its category's template lines removed. */
  description: string;
  resolution: string;
  /** Mean similarity to the pattern's other cases. */
  similarity: number;
}

/** The written parts of an article. */
export interface ArticleDraft {
  title: string;
  summary: string;
  symptoms: string[];
  resolutionSteps: string[];
}

export const MAX_SYMPTOMS = 8;
export const MAX_RESOLUTION_STEPS = 8;
const MAX_TITLE_CHARS = 200;
const MAX_LINE_CHARS = 240;
const MAX_SUMMARY_CHARS = 600;
/** Two lines this alike (Jaccard of content words) say the same thing. */
const NEAR_DUPLICATE = 0.8;

// Words that mark a line as a symptom: an error, a failure, something missing.
const SYMPTOM_RE =
  /\b(?:error|exception|fail(?:s|ed|ure|ing)?|cannot|can't|could not|couldn't|unable|not found|not working|doesn't work|does not work|crash(?:es|ed)?|abort(?:s|ed)?|segmentation fault|overflow|timeout|timed out|denied|invalid|undefined|refused|broken|stuck|freez(?:e|es|ing)|slow)\b/i;
const STACK_FRAME_RE = /^(?:at\s+\S|File ".*", line \d+|#\d+\s+0x[0-9a-f]+)/;
const URL_LINE_RE = /^<?https?:\/\//i;
// glog-style lines (`2023-08-14 21:39:36.565382: W tensorflow/...cc:38] ...`): the level says whether it is an error.
const LOG_PREFIX_RE = /^\d{4}-\d\d-\d\d[ T][\d:.,]+Z?:?\s*(?:([IWEF])\s+)?/;
// One non-space before the dot is what `\S+` asked for, without rescanning a long token from each start.
const SOURCE_POSITION_RE = /\S\.\w+:\d+(?::\d+|\])/;
const LEADING_TAGS_RE = /^(?:\[[^\]]{1,40}\]:?\s*)+/;
// A search query pasted by an issue template (`in:title is:issue repo:facebook/react`).
// Two operators (`op:value ... op:value`) are two matches of the global pattern: counted, not matched as one `op:\S+.*op:\S+` (quadratic).
const SEARCH_OPERATOR_RE = /\b(?:in|is|label|repo):\S/g;
function hasSearchOperators(line: string): boolean {
  let count = 0;
  for (const _ of line.matchAll(SEARCH_OPERATOR_RE)) if (++count >= 2) return true;
  return false;
}
const LIST_ITEM_RE = /^\s*(?:\d+[.)]|[-*+])\s+/;
const SEGMENTER = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Writes an article from its cases' own text, inventing nothing (the
 * default when no LLM is configured, and the fallback when the LLM fails):
 *
 * - title: the subject most like the other subjects (mean word overlap),
 *   so the wording the reporters share wins;
 * - summary: the one or two sentences of the most representative case
 *   (`cases[0]`) that use the pattern's most widespread words;
 * - symptoms: distinct error-like lines and subjects across the cases,
 *   the most often reported first, near-duplicates merged, at most 8;
 * - resolution steps: the steps of the cases' recorded resolutions, the
 *   most common first; none when no case records one (the body then says so).
 *
 * @param cases most representative first
 */
export function writeExtractiveArticle(cases: readonly ArticleSourceCase[]): ArticleDraft {
  if (cases.length === 0) throw new RangeError('an article needs at least one case');
  const title = pickTitle(cases);
  const spread = spreadOf(cases);
  return {
    title,
    summary: pickSummary(cases, title, spread),
    symptoms: rankDistinct(
      cases.map((c) => symptomLines(c)),
      MAX_SYMPTOMS,
      spread,
    ),
    resolutionSteps: rankDistinct(
      cases.map((c) => resolutionSteps(c.resolution)),
      MAX_RESOLUTION_STEPS,
    ),
  };
}

/** Cuts text at a word boundary, marking the cut. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

function pickTitle(cases: readonly ArticleSourceCase[]): string {
  const tokens = cases.map((c) => contentTokensOf(c.subject.replace(/\d+/g, '0')));
  let best = 0;
  let bestScore = -1;
  tokens.forEach((t, i) => {
    let score = 0;
    tokens.forEach((u, j) => {
      if (i !== j) score += jaccard(t, u);
    });
    if (score > bestScore + 1e-9) {
      best = i;
      bestScore = score;
    }
  });
  const subject = trimEndWhere(clip(cases[best]!.subject, MAX_TITLE_CHARS), (c) => /[\s.:;,]/.test(c));
  return subject !== '' ? subject : clip(symptomLines(cases[0]!)[0] ?? `Recurring problem (${cases.length} cases)`, MAX_TITLE_CHARS);
}

/** Prose sentences of a description: no code, stack frames, URLs or fragments. */
function sentencesOf(text: string): string[] {
  const out: string[] = [];
  let inFence = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^(?:```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence || line === '' || STACK_FRAME_RE.test(line) || URL_LINE_RE.test(line) || LOG_PREFIX_RE.test(line) || SOURCE_POSITION_RE.test(line)) continue;
    for (const { segment } of SEGMENTER.segment(line.replace(LIST_ITEM_RE, '').replace(/^#+\s*/, ''))) {
      const sentence = segment.trim();
      const tokens = sentence.split(/\s+/);
      // Prose: mostly plain words, not code, paths, flags or numbers.
      // Opening and closing punctuation trimmed by hand: `["')\],.;:!?]+$` is quadratic on a long token.
      const plain = tokens.filter((t) => /^[\p{L}'’-]+$/u.test(trimEndOf(trimStartOf(t, `"'([`), `"')],.;:!?`))).length;
      if (tokens.length >= 4 && tokens.length <= 60 && plain / tokens.length >= 0.6) out.push(sentence);
    }
  }
  return out;
}

/** How many of the pattern's cases use each word, as a share. */
type Spread = Map<string, number>;

function spreadOf(cases: readonly ArticleSourceCase[]): Spread {
  const counts = new Map<string, number>();
  for (const c of cases) for (const t of contentTokensOf(`${c.subject}\n${c.description}`)) counts.set(t, (counts.get(t) ?? 0) + 1);
  for (const [t, n] of counts) counts.set(t, n / cases.length);
  return counts;
}

/** How much a text speaks of what the pattern's cases share: its words' spread, length-normalized. */
function topicality(tokens: ReadonlySet<string>, spread: Spread): number {
  if (tokens.size === 0) return 0;
  let sum = 0;
  for (const t of tokens) sum += spread.get(t) ?? 0;
  return sum / Math.sqrt(tokens.size);
}

function pickSummary(cases: readonly ArticleSourceCase[], title: string, spread: Spread): string {
  const titleTokens = contentTokensOf(title);
  const scored = sentencesOf(cases[0]!.description)
    .map((sentence, position) => {
      const tokens = contentTokensOf(sentence);
      // A sentence that only repeats the title adds nothing to a summary, and one
      // found word for word in other cases without naming a failure is template
      // or log output ("To enable them in other operations, rebuild TensorFlow ...").
      const repeatsTitle = jaccard(tokens, titleTokens) >= NEAR_DUPLICATE;
      const boilerplate = !SYMPTOM_RE.test(sentence) && cases.filter((c) => c.description.includes(sentence)).length >= 3;
      return { sentence, position, score: topicality(tokens, spread) * (repeatsTitle ? 0.5 : 1) * (boilerplate ? 0.25 : 1) };
    })
    .filter((s) => s.score > 0);
  const chosen = scored
    .sort((a, b) => b.score - a.score || a.position - b.position)
    .slice(0, 2)
    .sort((a, b) => a.position - b.position)
    // Template answers often lack a full stop; without one two of them read as one run-on sentence.
    .map((s) => (/[.!?…]["')\]]?$/.test(s.sentence) ? s.sentence : `${s.sentence}.`));
  if (chosen.length === 0) return clip(`Reported in ${cases.length} cases: ${cases[0]!.subject.trim() || title}.`, MAX_SUMMARY_CHARS);
  return clip(chosen.join(' '), MAX_SUMMARY_CHARS);
}

/** A case's error-like lines: its subject and description lines naming a failure. */
function symptomLines(c: ArticleSourceCase): string[] {
  const lines: string[] = [];
  let inFence = false;
  for (const raw of [c.subject, ...c.description.split('\n')]) {
    const trimmed = raw.trim();
    if (/^(?:```|~~~)/.test(trimmed)) {
      inFence = !inFence;
      continue;
    }
    // Info and warning log lines are noise that many unrelated reports share.
    const level = LOG_PREFIX_RE.exec(trimmed)?.[1];
    if (level === 'I' || level === 'W') continue;
    const line = trimmed
      .replace(LOG_PREFIX_RE, '')
      .replace(LIST_ITEM_RE, '')
      .replace(/^#+\s*/, '')
      .replace(LEADING_TAGS_RE, '')
      .trim();
    if (line.length < 12 || STACK_FRAME_RE.test(line) || URL_LINE_RE.test(line) || SOURCE_POSITION_RE.test(line) || hasSearchOperators(line)) continue;
    if (!SYMPTOM_RE.test(line)) continue;
    // Inside code only error output counts, never the code itself.
    if (inFence && !/(?:error|exception|fault|abort)/i.test(line)) continue;
    const first = line.length > MAX_LINE_CHARS ? ([...SEGMENTER.segment(line)][0]?.segment.trim() ?? line) : line;
    if (first.length <= MAX_LINE_CHARS) lines.push(first);
  }
  return lines;
}

/** The steps of one recorded resolution: its list items, or else its sentences. */
function resolutionSteps(resolution: string): string[] {
  const lines = resolution
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const items = lines.filter((l) => LIST_ITEM_RE.test(l));
  if (items.length >= 2) return items.map((l) => clip(l.replace(LIST_ITEM_RE, ''), MAX_LINE_CHARS));
  return lines
    .flatMap((l) => [...SEGMENTER.segment(l)].map((s) => s.segment.trim()))
    .filter((s) => s.length >= 3)
    .map((s) => clip(s, MAX_LINE_CHARS));
}

/**
 * Distinct lines across cases, the ones found in the most cases first, then
 * (with `spread`) the most on-topic, then in order of appearance (cases most
 * representative first); a line nearly the same as one already taken counts
 * for it instead.
 */
function rankDistinct(perCase: readonly string[][], max: number, spread?: Spread): string[] {
  const groups: { text: string; key: string; tokens: Set<string>; cases: Set<number>; first: number }[] = [];
  perCase.forEach((lines, caseIndex) => {
    for (const text of lines) {
      const key = text.toLowerCase().replace(/\d+/g, '0').replace(/\W+/g, ' ').trim();
      const tokens = contentTokensOf(key);
      const group = groups.find((g) => g.key === key || jaccard(g.tokens, tokens) >= NEAR_DUPLICATE);
      if (group) group.cases.add(caseIndex);
      else groups.push({ text, key, tokens, cases: new Set([caseIndex]), first: groups.length });
    }
  });
  const score = (g: (typeof groups)[number]) => (spread ? topicality(g.tokens, spread) : 0);
  return groups
    .sort((a, b) => b.cases.size - a.cases.size || score(b) - score(a) || a.first - b.first)
    .slice(0, max)
    .map((g) => g.text);
}
