/**
 * Data of the `memory` suite, from the seeded generators of `@apiary/testkit`:
 * - `topical` (default): topics with a low intrinsic dimension, shaped like text embeddings;
 * - `isotropic` (`--data isotropic`): clusters whose spread is isotropic in all 384 dimensions, the
 *   stress case where neighbours within a cluster nearly tie (every index's recall drops there).
 */
import { createHash } from 'node:crypto';
import { clustered, topical } from '@apiary/testkit';

/** The generators the suite can run on. */
export const DATA_KINDS = ['topical', 'isotropic'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

/** Scales every row to unit length in place, so the inner product is the cosine (what every side computes). */
export function normalizeRows(m: Float32Array, dims: number): void {
  for (let off = 0; off < m.length; off += dims) {
    let sum = 0;
    for (let j = 0; j < dims; j++) sum += m[off + j]! * m[off + j]!;
    const scale = 1 / Math.sqrt(sum);
    for (let j = 0; j < dims; j++) m[off + j]! *= scale;
  }
}

/** SHA-1 of the vectors' bytes, reported so two runs can tell whether they searched the same data. */
export function fingerprint(m: Float32Array): string {
  return createHash('sha1').update(new Uint8Array(m.buffer, m.byteOffset, m.byteLength)).digest('hex').slice(0, 16);
}

/** The suite's data set: `n` stored vectors, then held-out rows from the same clusters (never stored). */
export interface DataSet {
  readonly kind: DataKind;
  readonly dims: number;
  readonly n: number;
  /** The `n` stored vectors, normalised, row-major. */
  readonly vectors: Float32Array;
  /** Held-out query vectors (same centres, not in `vectors`), normalised. */
  readonly queries: Float32Array;
  readonly queryCount: number;
  /** Held-out vectors written during the fresh-write figure, normalised. */
  readonly fresh: Float32Array;
  readonly freshCount: number;
}

/**
 * Generates everything from one seeded stream: the first `n` rows are stored, the rest are held out.
 * The first `n` rows are the same whatever the held-out counts (the generator draws row by row).
 */
export function dataSet(kind: DataKind, n: number, dims: number, clusters: number, seed: number, queryCount: number, freshCount: number): DataSet {
  const count = n + queryCount + freshCount;
  const all = kind === 'topical' ? topical(count, dims, clusters, seed) : clustered(count, dims, clusters, seed);
  normalizeRows(all, dims);
  return {
    kind,
    dims,
    n,
    vectors: all.subarray(0, n * dims),
    queries: all.slice(n * dims, (n + queryCount) * dims),
    queryCount,
    fresh: all.slice((n + queryCount) * dims),
    freshCount,
  };
}
