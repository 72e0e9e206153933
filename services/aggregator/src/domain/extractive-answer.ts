import { bodyOf, type RetrievedChunk } from './citations.ts';

const STOPWORDS = new Set(
  'a an and are as at be by can do does for from how i in is it of on or that the this to what when where which who why with you your'.split(' '),
);

/** Lower-cased content words of a text. */
export function terms(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).filter((t) => t.length > 1 && !STOPWORDS.has(t));
}

function sentences(text: string): string[] {
  return (
    text
      .replace(/```[\s\S]*?```/g, ' ')
      // No bracket in the text nor parenthesis in the target: linear on a run of `[` (kbflow issue 14, item 2).
      .replace(/!?\[([^\][]*)\]\([^()]*\)/g, '$1')
      .replace(/`/g, '')
      .split(/(?<=[.!?])\s+|\n{2,}/)
      .map((s) =>
        s
          .replace(/\s+/g, ' ')
          .replace(/^[#>*\-\s]+/, '')
          .trim(),
      )
      .filter((s) => s.length >= 20 && s.length <= 600)
  );
}

/**
 * The answer kbflow gives without an LLM: the sentences of the retrieved
 * passages that share the most words with the question, each followed by the
 * number of its source. Nothing is generated, so nothing is made up.
 */
export function extractiveAnswer(query: string, chunks: RetrievedChunk[], sourceIndex: Map<string, number>, maxSentences = 3): string {
  return extractiveSentences(query, chunks, sourceIndex, maxSentences).join(' ');
}

/** The extractive answer's sentences, each with its source number: streamed one by one, joined by a space they are the answer. */
export function extractiveSentences(query: string, chunks: RetrievedChunk[], sourceIndex: Map<string, number>, maxSentences = 3): string[] {
  const wanted = new Set(terms(query));
  const scored: { sentence: string; score: number; source: number; order: number }[] = [];
  let order = 0;
  for (const chunk of chunks) {
    const source = sourceIndex.get(chunk.url);
    if (source === undefined) continue;
    for (const sentence of sentences(bodyOf(chunk))) {
      const words = new Set(terms(sentence));
      let overlap = 0;
      for (const w of wanted) if (words.has(w)) overlap++;
      // Overlap first, then the passage's own retrieval score breaks ties.
      scored.push({ sentence, score: overlap + chunk.score * 0.5, source, order: order++ });
    }
  }
  if (scored.length === 0) return ['No relevant passages were found in the knowledge base.'];
  const picked = scored.sort((a, b) => b.score - a.score || a.order - b.order).slice(0, maxSentences);
  return picked.map((p) => `${p.sentence} [${p.source}]`);
}
