/**
 * Data of the `memory` suite. `seeded` and `clustered` are a copy of
 * packages/memory/test/fixtures/data.ts (benchmarks do not import from a package's test/): keep the
 * two in step, and bump {@link DATA_VERSION} when the generator changes, since the cached baseline
 * index is keyed by it.
 */
import { createHash } from 'node:crypto';

/** Part of the baseline cache key: changes whenever the generator below would give other vectors. */
export const DATA_VERSION = 1;

/** Seeded clustered vectors for tests and benchmarks (HNSW needs structure; uniform noise is its worst case). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` vectors of `dims` around `clusters` random centres, row-major. */
export function clustered(count: number, dims: number, clusters: number, seed = 1): Float32Array {
  const random = seeded(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dims }, gauss));
  const out = new Float32Array(count * dims);
  for (let i = 0; i < count; i++) {
    const c = centres[Math.floor(random() * clusters)]!;
    for (let j = 0; j < dims; j++) out[i * dims + j] = c[j]! + 0.35 * gauss();
  }
  return out;
}

export const row = (m: Float32Array, dims: number, i: number): Float32Array => m.slice(i * dims, (i + 1) * dims);

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
