import { InvalidArgumentError } from '@apiary/runtime';
import { checkTexts, type EmbedOptions, type Embedder } from './embedders.js';

/** Options of {@link HashEmbedder}. Every default is listed. */
export interface HashEmbedderOptions {
  /** Length of every vector, an integer in 1..65536. Default {@link DEFAULT_HASH_DIMENSIONS} (384). */
  readonly dimensions?: number;
}

/** Default vector length of {@link HashEmbedder}; the size of common small sentence models, so swapping one in keeps index sizes. */
export const DEFAULT_HASH_DIMENSIONS = 384;

const MAX_DIMENSIONS = 65_536;
/**
 * Longest stretch of hashing before `embed` yields to the event loop. A worker thread hosts many
 * actors and answers heartbeats; a 100k-text call (about 36 µs a 170-character text) must not freeze
 * it for seconds. The abort signal is checked at each yield.
 */
const YIELD_AFTER_MS = 8;

// Each feature kind hashes with its own seed, so the 3-gram "cat" and the word "cat" are different features.
const SEED_TRIGRAM = 0x3a1c_9e55;
const SEED_FOURGRAM = 0x4b7d_21a3;
const SEED_WORD = 0x5e02_f6c9;
// A second, independent hash picks each feature's sign; deriving it from the bucket hash would correlate the two.
const SIGN_SALT = 0x9e37_79b9;

const WHITESPACE = /\s+/gu;
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * The offline default embedder: no model, no network, no randomness. It is **lexical, not semantic**:
 * two texts come out close when they share character sequences and words ("refund my order" is near
 * "order refund"), never because they mean the same thing ("car" and "automobile" are unrelated to
 * it, and "bank" of a river equals "bank" the lender). Use it for tests, offline runs and
 * near-duplicate detection; use a model (e.g. `OpenAIEmbedder`) when meaning matters.
 *
 * How a text becomes a vector:
 * 1. Unicode NFKC normalisation, lower case (locale-independent), every run of whitespace collapsed to
 *    one space, ends trimmed; the text is then padded with one space each side so word starts and
 *    ends become features.
 * 2. Features: every character 3-gram and 4-gram (by code point, so emoji and astral characters are
 *    never split), plus every word (a run of letters, marks and digits) as a unigram.
 * 3. Signed feature hashing: each feature is hashed (FNV-1a over its code points, then the murmur3
 *    finaliser) into one of `dimensions` buckets and adds +1 or -1 there, the sign from a second hash,
 *    so unrelated features cancel on average instead of piling up.
 * 4. L2 normalisation: every vector has length 1, so the dot product is the cosine similarity.
 *
 * Deterministic: the same text and `dimensions` give bit-identical vectors on every thread, process
 * and platform (only Unicode normalisation tables, which change with Node's ICU, could differ).
 * Empty or whitespace-only text is refused with `InvalidArgumentError` rather than mapped to a fixed
 * vector: such a vector would be an arbitrary point that every empty text matches perfectly and
 * other texts match by accident. In the rare case that every feature of a very short text cancels
 * out, the features are summed unsigned instead, so no vector is ever all zeros.
 */
export class HashEmbedder implements Embedder {
  /** Length of every vector. */
  readonly dimensions: number;
  /** The algorithm's name and version; it changes whenever vectors would. */
  readonly name = 'apiary-hash-v1';

  constructor(options: HashEmbedderOptions = {}) {
    const dimensions = options.dimensions ?? DEFAULT_HASH_DIMENSIONS;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
      throw new InvalidArgumentError('dimensions', `must be an integer in 1..${MAX_DIMENSIONS} (got ${dimensions})`);
    }
    this.dimensions = dimensions;
  }

  /**
   * Embeds `texts` (see the class notes); rejects at once on an empty text, before any work. Long
   * calls yield to the event loop every few milliseconds and stop at the next yield when aborted.
   */
  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    checkTexts(texts);
    options.signal?.throwIfAborted();
    const out: Float32Array[] = [];
    let sliceStart = performance.now();
    for (let i = 0; i < texts.length; i++) {
      if (i % 16 === 15 && performance.now() - sliceStart > YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        options.signal?.throwIfAborted();
        sliceStart = performance.now();
      }
      out.push(this.embedText(texts[i]!));
    }
    return out;
  }

  /** Embeds one text synchronously, for callers that cannot await. Same vector as {@link embed}. */
  embedText(text: string): Float32Array {
    const normalised = typeof text === 'string' ? normalise(text) : '';
    if (normalised.length === 0) throw new InvalidArgumentError('text', 'must not be empty or only whitespace');
    const padded = ` ${normalised} `;
    const codePoints = Array.from(padded, (ch) => ch.codePointAt(0)!);
    const words = normalised.match(WORD) ?? [];
    const sums = new Float64Array(this.dimensions);
    let norm = accumulate(codePoints, words, sums, true);
    if (norm === 0) {
      // Every signed feature cancelled out (possible only for a handful of features): drop the signs.
      sums.fill(0);
      norm = accumulate(codePoints, words, sums, false);
    }
    const vector = new Float32Array(this.dimensions);
    for (let i = 0; i < sums.length; i++) vector[i] = sums[i]! / norm;
    return vector;
  }
}

/** The text as features see it: NFKC, lower case, whitespace collapsed and trimmed. */
function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(WHITESPACE, ' ').trim();
}

/** Adds every feature into `sums`; returns the L2 norm of the result. */
function accumulate(codePoints: readonly number[], words: readonly string[], sums: Float64Array, signed: boolean): number {
  const add = (hash: number): void => {
    const bucket = hash % sums.length;
    sums[bucket]! += !signed || (fmix32(hash ^ SIGN_SALT) & 1) === 0 ? 1 : -1;
  };
  for (let i = 0; i + 3 <= codePoints.length; i++) add(hashCodePoints(codePoints, i, i + 3, SEED_TRIGRAM));
  for (let i = 0; i + 4 <= codePoints.length; i++) add(hashCodePoints(codePoints, i, i + 4, SEED_FOURGRAM));
  for (const word of words) add(hashString(word, SEED_WORD));
  let squares = 0;
  for (const x of sums) squares += x * x;
  return Math.sqrt(squares);
}

const FNV_OFFSET = 0x811c_9dc5;
const FNV_PRIME = 0x0100_0193;

/** FNV-1a step over the three low bytes of a code point (every code point fits in 21 bits). */
function fnvCodePoint(hash: number, codePoint: number): number {
  hash = Math.imul(hash ^ (codePoint & 0xff), FNV_PRIME);
  hash = Math.imul(hash ^ ((codePoint >>> 8) & 0xff), FNV_PRIME);
  return Math.imul(hash ^ (codePoint >>> 16), FNV_PRIME);
}

/** Hash of `codePoints[start..end)`, unsigned 32-bit. */
function hashCodePoints(codePoints: readonly number[], start: number, end: number, seed: number): number {
  let hash = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = start; i < end; i++) hash = fnvCodePoint(hash, codePoints[i]!);
  return fmix32(hash);
}

/** Hash of a string's code points, unsigned 32-bit; equal to {@link hashCodePoints} over the same code points. */
function hashString(text: string, seed: number): number {
  let hash = (FNV_OFFSET ^ seed) >>> 0;
  for (const ch of text) hash = fnvCodePoint(hash, ch.codePointAt(0)!);
  return fmix32(hash);
}

/** murmur3's 32-bit finaliser: spreads FNV's weak high and low bits over the whole word. */
function fmix32(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85eb_ca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2_ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
