import { InvalidArgumentError } from '@apiary/runtime';
import { EmbedderOutputError, EmbeddingDimensionError } from './embedder-errors.js';

/** Options of one {@link Embedder.embed} call. */
export interface EmbedOptions {
  /** Aborts the call; it then rejects with the signal's reason and returns nothing partial. */
  readonly signal?: AbortSignal;
}

/**
 * Turns texts into fixed-length vectors for the vector memory. Implementations are pluggable:
 * `HashEmbedder` (offline, lexical) and `OpenAIEmbedder` (any OpenAI-compatible server) ship with
 * the package; anything that keeps this contract can replace them.
 *
 * The contract every implementation keeps:
 * - `embed` resolves to exactly one vector per input, in input order, each a fresh `Float32Array`
 *   of exactly `dimensions` finite entries (see {@link checkEmbeddings}).
 * - A text that is empty or only whitespace is refused with `InvalidArgumentError` (field
 *   `texts[i]`) before any work: it has no content to place anywhere, and OpenAI's API refuses empty
 *   input too, so swapping embedders never changes which inputs are accepted.
 * - An empty `texts` array resolves to an empty array.
 * - `name` plus `dimensions` identify the vector space: vectors from embedders that differ in
 *   either must never be compared or stored in one index.
 */
export interface Embedder {
  /** Length of every vector `embed` returns. */
  readonly dimensions: number;
  /** Identifies the vector space (algorithm or model, and version), e.g. `apiary-hash-v1` or `openai:text-embedding-3-small`. */
  readonly name: string;
  /** Embeds `texts`; one vector per text, in input order. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/**
 * Checks the input side of the {@link Embedder} contract: `texts` is an array of strings, none of
 * them empty or only whitespace. Throws `InvalidArgumentError` naming the first offender.
 */
export function checkTexts(texts: readonly string[]): void {
  if (!Array.isArray(texts)) throw new InvalidArgumentError('texts', 'must be an array of strings');
  for (let i = 0; i < texts.length; i++) {
    const text: unknown = texts[i];
    if (typeof text !== 'string') throw new InvalidArgumentError(`texts[${i}]`, `must be a string (got ${typeof text})`);
    if (text.trim().length === 0) throw new InvalidArgumentError(`texts[${i}]`, 'must not be empty or only whitespace');
  }
}

/**
 * Checks the output side of the {@link Embedder} contract, for wrappers and for vectors that come
 * from outside (a server, a file): `vectors` has `expectedCount` entries (when given), each exactly
 * `embedder.dimensions` long, every entry finite. Throws `EmbeddingDimensionError` for a wrong
 * length and `EmbedderOutputError` for a wrong count or a NaN/Infinity. `offset` is added to the
 * index reported, for a batch that starts part-way through the caller's input.
 */
export function checkEmbeddings(
  embedder: Pick<Embedder, 'dimensions' | 'name'>,
  vectors: readonly ArrayLike<number>[],
  expectedCount?: number,
  offset = 0,
): void {
  if (expectedCount !== undefined && vectors.length !== expectedCount) {
    throw new EmbedderOutputError(embedder.name, `${vectors.length} vectors for ${expectedCount} inputs`);
  }
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i]!;
    if (vector.length !== embedder.dimensions) throw new EmbeddingDimensionError(embedder.name, embedder.dimensions, vector.length, offset + i);
    for (let j = 0; j < vector.length; j++) {
      if (!Number.isFinite(vector[j])) {
        throw new EmbedderOutputError(embedder.name, `input ${offset + i} has a non-finite value (${String(vector[j])}) at position ${j}`);
      }
    }
  }
}
