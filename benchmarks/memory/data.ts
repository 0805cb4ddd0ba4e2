/**
 * Data of the `memory` suite, from the seeded generators of `@apiary/testkit`:
 * - `topical` (default): topics with a low intrinsic dimension, shaped like text embeddings;
 * - `isotropic` (`--data isotropic`): clusters whose spread is isotropic in all 384 dimensions, the
 *   stress case where neighbours within a cluster nearly tie (every index's recall drops there).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '@apiary/mock-openai';
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
 * With `cacheDir`, the rows are generated once and read back from there in later runs.
 */
export function dataSet(kind: DataKind, n: number, dims: number, clusters: number, seed: number, queryCount: number, freshCount: number, cacheDir?: string): DataSet {
  const count = n + queryCount + freshCount;
  const all = cacheDir === undefined ? generate(kind, count, dims, clusters, seed) : cached(cacheDir, kind, count, dims, clusters, seed);
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

function generate(kind: DataKind, count: number, dims: number, clusters: number, seed: number): Float32Array {
  const all = kind === 'topical' ? topical(count, dims, clusters, seed) : clustered(count, dims, clusters, seed);
  normalizeRows(all, dims);
  return all;
}

/**
 * The generated rows, kept in `cacheDir` (generating 100,000 x 384 took 4-5 s of a run here). The
 * file's name holds the arguments and a hash of the generating code (the generator, the seeded
 * stream, the normalisation), so changing any of them makes a new file rather than reusing an old one.
 */
function cached(cacheDir: string, kind: DataKind, count: number, dims: number, clusters: number, seed: number): Float32Array {
  const code = [topical, clustered, seededRandom, normalizeRows, generate].map((f) => f.toString()).join('\n');
  const key = createHash('sha1').update(JSON.stringify({ kind, count, dims, clusters, seed })).update(code).digest('hex').slice(0, 16);
  const file = join(cacheDir, `data-${kind}-${count}x${dims}-${key}.f32`);
  if (existsSync(file)) {
    const bytes = readFileSync(file);
    if (bytes.byteLength === count * dims * 4) {
      // A big file is read into a buffer of its own; otherwise copy (a view needs 4-byte alignment).
      const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength;
      return new Float32Array(own ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  const all = generate(kind, count, dims, clusters, seed);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${file}.tmp`, new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
  renameSync(`${file}.tmp`, file);
  return all;
}
