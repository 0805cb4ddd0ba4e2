/**
 * Data of the `memory` suite: the seeded clustered generator the memory tests use too
 * (`@apiary/testkit`). Bump {@link DATA_VERSION} when it changes, since the cached baseline index is
 * keyed by it.
 */
import { createHash } from 'node:crypto';

/** Part of the baseline cache key: changes whenever the generator below would give other vectors. */
export const DATA_VERSION = 1;

import { clustered } from '@apiary/testkit';


/** Scales every row to unit length in place, so the inner product is the cosine (what every side computes). */
export function normalizeRows(m: Float32Array, dims: number): void {
  for (let off = 0; off < m.length; off += dims) {
    let sum = 0;
    for (let j = 0; j < dims; j++) sum += m[off + j]! * m[off + j]!;
    const scale = 1 / Math.sqrt(sum);
    for (let j = 0; j < dims; j++) m[off + j]! *= scale;
  }
}

/** SHA-1 of the vectors' bytes: the cache key holds it too, so a cached index always matches the data. */
export function fingerprint(m: Float32Array): string {
  return createHash('sha1').update(new Uint8Array(m.buffer, m.byteOffset, m.byteLength)).digest('hex').slice(0, 16);
}

/** The suite's data set: `n` stored vectors, then held-out rows from the same clusters (never stored). */
export interface DataSet {
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
export function dataSet(n: number, dims: number, clusters: number, seed: number, queryCount: number, freshCount: number): DataSet {
  const all = clustered(n + queryCount + freshCount, dims, clusters, seed);
  normalizeRows(all, dims);
  return {
    dims,
    n,
    vectors: all.subarray(0, n * dims),
    queries: all.slice(n * dims, (n + queryCount) * dims),
    queryCount,
    fresh: all.slice((n + queryCount) * dims),
    freshCount,
  };
}
