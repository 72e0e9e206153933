import { FeatureCounter, finalizeHash, fnv1a, fnv1aCode } from './feature-hashing.ts';
import { STOPWORDS, forEachToken, stemPlural } from './tokenize.ts';
import type { Embedder } from './types.ts';
import { l2NormalizeInPlace } from './vector.ts';

const DEFAULT_DIMENSIONS = 384;

// Weights per feature kind. A word of n letters yields about 2n character
// n-grams, so at 0.25 each their squared mass roughly equals the word's own
// (1.0): exact words and spelling overlap count about the same, and bigrams
// add word order without drowning single-word matches. On the 501 questions
// of shared/data/qa (see hashing-embedder.bench.ts) dropping the character
// n-grams cost 7% of MRR; other weights within ±50% moved it by less than noise.
const UNIGRAM_WEIGHT = 1.0;
const BIGRAM_WEIGHT = 0.5;
const CHAR_NGRAM_WEIGHT = 0.25;

// Different FNV offset bases keep the feature kinds apart: the word `abc` and
// the character trigram `abc` must not land on the same feature.
const UNIGRAM_SEED = 0x811c9dc5;
const BIGRAM_SEED = 0x050c5d1f;
const CHAR_NGRAM_SEED = 0x2e6a3b9d;
const FALLBACK_SEED = 0x6b43a9b5;

// Words repeat across chunks (Zipf), so their features are computed once.
// The cache only memoizes a pure function: output never depends on it.
const WORD_CACHE_LIMIT = 50_000;

interface WordFeatures {
  readonly stopword: boolean;
  /** Plural-folded form used for unigrams and bigrams. */
  readonly stem: string;
  readonly unigram: number;
  /** Unfinalized FNV state of `stem` + space, under the bigram seed, to continue with the next word. */
  readonly bigramPrefix: number;
  readonly charNgrams: Uint32Array;
}

/**
 * An offline, deterministic embedder: signed feature hashing of word
 * unigrams, word bigrams and character 3/4-grams inside words. It is not a
 * neural model and knows no synonyms; it finds texts that share words,
 * identifiers and word stems, which is what keyword-heavy documentation
 * needs when no embedding provider is configured.
 *
 * Text is NFKC-normalized and lower-cased; tokens are Unicode letters and
 * digits. Identifiers count both as their parts and whole (`str.split` gives
 * `str`, `split` and `str.split`; `BullMQ` gives `bull`, `mq` and `bullmq`).
 * Common English stopwords are dropped unless the text has nothing else.
 * Term frequency is sublinear (1 + ln tf). Vectors are the same in every
 * process and on every machine.
 */
export class HashingEmbedder implements Embedder {
  readonly model = 'local-hashing-ngram-v1';
  readonly dimensions: number;
  readonly #unigrams = new FeatureCounter();
  readonly #bigrams = new FeatureCounter();
  readonly #charNgrams = new FeatureCounter();
  readonly #wordCache = new Map<string, WordFeatures>();

  /** @param opts.dimensions vector length, 384 unless given */
  constructor(opts: { dimensions?: number } = {}) {
    const dimensions = opts.dimensions ?? DEFAULT_DIMENSIONS;
    if (!Number.isInteger(dimensions) || dimensions < 2) {
      throw new RangeError(`dimensions must be an integer >= 2, got ${dimensions}`);
    }
    this.dimensions = dimensions;
  }

  /** Embeds each text; synchronous work behind a promise to fit {@link Embedder}. */
  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.embedOne(text));
  }

  /** The vector for one text: unit length, never zero. */
  embedOne(text: string): number[] {
    const unigrams = this.#unigrams;
    const bigrams = this.#bigrams;
    const charNgrams = this.#charNgrams;
    unigrams.clear();
    bigrams.clear();
    charNgrams.clear();

    const content: WordFeatures[] = [];
    const stopwords: WordFeatures[] = [];
    forEachToken(text, (parts, whole) => {
      // Stemmed like any word, so `BullMQ` meets `bullmq` and `getUsers` meets `getuser`.
      if (whole !== undefined) unigrams.add(finalizeHash(fnv1a(UNIGRAM_SEED, stemPlural(whole))));
      for (const part of parts) {
        const word = this.#features(part);
        if (word.stopword) {
          stopwords.push(word);
          continue;
        }
        content.push(word);
        unigrams.add(word.unigram);
        for (const hash of word.charNgrams) charNgrams.add(hash);
      }
    });
    // A question made only of stopwords ("what is it") still has words to match on.
    const words = content.length > 0 ? content : stopwords;
    if (content.length === 0) for (const word of words) unigrams.add(word.unigram);
    for (let i = 1; i < words.length; i++) {
      bigrams.add(finalizeHash(fnv1a(words[i - 1]!.bigramPrefix, words[i]!.stem)));
    }

    const vector = new Float64Array(this.dimensions);
    this.#accumulate(vector, unigrams, UNIGRAM_WEIGHT);
    this.#accumulate(vector, bigrams, BIGRAM_WEIGHT);
    this.#accumulate(vector, charNgrams, CHAR_NGRAM_WEIGHT);
    l2NormalizeInPlace(vector);
    // Empty or punctuation-only text has no features, and signed hashing can
    // in theory cancel to zero: either way cosine would be undefined.
    if (vector.every((value) => value === 0)) return this.#fallbackVector(text);
    return Array.from(vector);
  }

  #features(part: string): WordFeatures {
    const cache = this.#wordCache;
    const cached = cache.get(part);
    if (cached !== undefined) return cached;
    const stem = stemPlural(part);
    const features: WordFeatures = {
      stopword: STOPWORDS.has(part),
      stem,
      unigram: finalizeHash(fnv1a(UNIGRAM_SEED, stem)),
      bigramPrefix: fnv1aCode(fnv1a(BIGRAM_SEED, stem), 32),
      charNgrams: charNgramHashes(part),
    };
    if (cache.size >= WORD_CACHE_LIMIT) cache.clear();
    cache.set(part, features);
    return features;
  }

  #accumulate(vector: Float64Array, counts: FeatureCounter, weight: number): void {
    const dimensions = this.dimensions;
    counts.forEach((hash, count) => {
      const value = weight * (1 + Math.log(count));
      vector[(hash >>> 1) % dimensions]! += (hash & 1) === 1 ? value : -value;
    });
  }

  /** A pseudo-random ±1 unit vector seeded by the raw text, so equal texts still compare equal. */
  #fallbackVector(text: string): number[] {
    // xorshift32 never leaves 0, so a zero seed is replaced.
    let state = finalizeHash(fnv1a(FALLBACK_SEED, text)) || 0x9e3779b9;
    const component = 1 / Math.sqrt(this.dimensions);
    const vector = new Array<number>(this.dimensions);
    for (let i = 0; i < this.dimensions; i++) {
      // xorshift32: enough to decorrelate components; statistical quality does not matter here.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      vector[i] = (state & 1) === 1 ? component : -component;
    }
    return vector;
  }
}

/** Character 3- and 4-grams of `<word>`; words under 3 letters are covered by their unigram. */
function charNgramHashes(word: string): Uint32Array {
  if (word.length < 3) return new Uint32Array(0);
  const padded = `<${word}>`;
  const end = padded.length;
  const hashes = new Uint32Array(2 * end - 5);
  let n = 0;
  for (let i = 0; i + 3 <= end; i++) {
    hashes[n++] = finalizeHash(fnv1a(CHAR_NGRAM_SEED, padded, i, i + 3));
    if (i + 4 <= end) hashes[n++] = finalizeHash(fnv1a(CHAR_NGRAM_SEED, padded, i, i + 4));
  }
  return hashes;
}
