import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Embedder } from './types.ts';

// The hash tag keeps every key in one Redis Cluster slot, so MGET works there too.
const DEFAULT_KEY_PREFIX = '{kbflow}:emb';
const DEFAULT_TTL_SECONDS = 7 * 24 * 60 * 60;
const BYTES_PER_FLOAT = 4;

/**
 * An {@link Embedder} that remembers vectors in Redis, so unchanged chunks
 * are not paid for twice. The key is the model and the text (sha256), the
 * value the vector as little-endian float32 bytes. One MGET per call; only
 * the misses go to the inner embedder, in one batch, and are written back
 * with a TTL in one pipeline. Redis errors are thrown, not hidden: the
 * queue that called us lives in the same Redis.
 */
export class CachedEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Texts answered from Redis and texts sent to the inner embedder, since construction. */
  readonly stats = { hits: 0, misses: 0 };
  readonly #inner: Embedder;
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  readonly #ttlSeconds: number;

  /**
   * @param opts.keyPrefix `{kbflow}:emb` unless given
   * @param opts.ttlSeconds 7 days unless given
   */
  constructor(inner: Embedder, redis: Redis, opts: { keyPrefix?: string; ttlSeconds?: number } = {}) {
    this.#inner = inner;
    this.#redis = redis;
    this.model = inner.model;
    this.dimensions = inner.dimensions;
    this.#keyPrefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#ttlSeconds = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  }

  /** The Redis key of `text`'s vector. */
  keyFor(text: string): string {
    const digest = createHash('sha256').update(this.model).update('\0').update(text).digest('hex');
    return `${this.#keyPrefix}:${digest}`;
  }

  /** Vectors from Redis where present, from the inner embedder otherwise; input order kept. */
  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const keys = texts.map((text) => this.keyFor(text));
    const stored = await this.#redis.mgetBuffer(...keys);

    const vectors = new Array<number[] | undefined>(texts.length);
    // Each distinct missing text is embedded once, however often it repeats.
    const missingPositions = new Map<string, number[]>();
    for (let i = 0; i < texts.length; i++) {
      const vector = this.#decode(stored[i]);
      if (vector !== undefined) {
        vectors[i] = vector;
        continue;
      }
      const text = texts[i]!;
      const positions = missingPositions.get(text);
      if (positions) positions.push(i);
      else missingPositions.set(text, [i]);
    }
    const hits = texts.length - [...missingPositions.values()].reduce((sum, p) => sum + p.length, 0);
    this.stats.hits += hits;
    this.stats.misses += texts.length - hits;
    if (missingPositions.size === 0) return vectors as number[][];

    const missingTexts = [...missingPositions.keys()];
    const fresh = await this.#inner.embed(missingTexts);
    if (fresh.length !== missingTexts.length) {
      throw new Error(`inner embedder returned ${fresh.length} vectors for ${missingTexts.length} texts`);
    }
    const pipeline = this.#redis.pipeline();
    missingTexts.forEach((text, j) => {
      const vector = fresh[j]!;
      const positions = missingPositions.get(text)!;
      for (const position of positions) vectors[position] = vector;
      pipeline.set(keys[positions[0]!]!, this.#encode(vector), 'EX', this.#ttlSeconds);
    });
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0]!;
    return vectors as number[][];
  }

  #encode(vector: number[]): Buffer {
    const buffer = Buffer.allocUnsafe(vector.length * BYTES_PER_FLOAT);
    for (let i = 0; i < vector.length; i++) buffer.writeFloatLE(vector[i]!, i * BYTES_PER_FLOAT);
    return buffer;
  }

  /** Undefined for a miss, and for a value of the wrong size (the model's dimensions were changed). */
  #decode(buffer: Buffer | null | undefined): number[] | undefined {
    if (!buffer || buffer.length !== this.dimensions * BYTES_PER_FLOAT) return undefined;
    const vector = new Array<number>(this.dimensions);
    for (let i = 0; i < this.dimensions; i++) vector[i] = buffer.readFloatLE(i * BYTES_PER_FLOAT);
    return vector;
  }
}
