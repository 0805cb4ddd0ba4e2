/**
 * The baselines of the `memory` suite, all on the main thread:
 * - hnswlib-node (M=16, efConstruction=128, ef=64, inner product on normalised vectors, which is
 *   the cosine): a fresh build of the first vectors, timed in the run (the `add` baseline), and
 *   the full index for searches, cached on disk (building it takes 30-40 s on the reference
 *   machine) unless `--full-baseline` builds and times it in the run;
 * - a plain JavaScript scan of every stored vector;
 * - USearch's native exhaustive scan, the exact top-k recall is measured against (no baseline: it
 *   answers more queries than the JavaScript scan has time for).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { HierarchicalNSW } from 'hnswlib-node';
import { fingerprint, type DataKind } from './data.ts';

/** HNSW settings shared by the baseline and the memory namespace (the namespace's defaults). */
export const HNSW = { M: 16, efConstruction: 128, ef: 64 } as const;
/** Seed of hnswlib's level generator: a fixed seed builds the same graph from the same data. */
const HNSW_SEED = 100;

type HnswlibModule = typeof import('hnswlib-node');
const require = createRequire(import.meta.url);

/** Loads hnswlib-node, saying what to do when its native addon is missing (it is built at install). */
function hnswlib(): HnswlibModule {
  try {
    return require('hnswlib-node') as HnswlibModule;
  } catch (error) {
    throw new Error('hnswlib-node did not load (is its native addon built? `npx --yes pnpm@10 rebuild hnswlib-node`)', { cause: error });
  }
}

/** The version of hnswlib-node, part of the cache key (another version may write another format). */
function hnswlibVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('hnswlib-node/package.json'), 'utf8')) as { version: string }).version;
}

/** Copies rows [from, to) into plain arrays: hnswlib-node takes `number[]` only. */
export function asArrays(m: Float32Array, dims: number, from: number, to: number): number[][] {
  return Array.from({ length: to - from }, (_, i) => Array.from(m.subarray((from + i) * dims, (from + i + 1) * dims)));
}

function newIndex(dims: number, capacity: number): HierarchicalNSW {
  const index = new (hnswlib().HierarchicalNSW)('ip', dims);
  index.initIndex(capacity, HNSW.M, HNSW.efConstruction, HNSW_SEED);
  return index;
}

/**
 * Builds the baseline's index of the first `n` rows, one `addPoint` at a time, timing the inserts
 * only: the conversion of each row to a plain array (hnswlib-node takes `number[]`) is done first,
 * untimed (the baseline's best case). The same index then serves the search baseline.
 */
export function timedBuild(vectors: Float32Array, dims: number, n: number): { index: HierarchicalNSW; ms: number } {
  const rows = asArrays(vectors, dims, 0, n);
  const index = newIndex(dims, n);
  const t0 = performance.now();
  rows.forEach((r, i) => index.addPoint(r, i));
  const ms = performance.now() - t0;
  index.setEf(HNSW.ef);
  return { index, ms };
}

/**
 * An hnswlib-node build done piece by piece, so that its pieces can take turns with another side's
 * (both then see the same moods of the machine). Each piece's rows are converted to plain arrays
 * before its timing starts (the baseline's best case); `add` returns the piece's time in ms.
 */
export class PiecewiseBuild {
  readonly index: HierarchicalNSW;
  #next = 0;

  constructor(
    readonly vectors: Float32Array,
    readonly dims: number,
    capacity: number,
  ) {
    this.index = newIndex(dims, capacity);
  }

  /** Inserts rows [from, to), which must follow the rows inserted so far. */
  add(from: number, to: number): number {
    if (from !== this.#next) throw new Error(`piecewise build: rows from ${from}, expected ${this.#next}`);
    const rows = asArrays(this.vectors, this.dims, from, to);
    const t0 = performance.now();
    rows.forEach((r, i) => this.index.addPoint(r, from + i));
    const ms = performance.now() - t0;
    this.#next = to;
    return ms;
  }
}

/** What the cache remembers about the build that made it. */
export interface CacheInfo {
  readonly file: string;
  /** True when this run built the index (and wrote the cache). */
  readonly builtNow: boolean;
  /** The build that made the cached index: vectors per second, when, on which Node. */
  readonly buildVectorsPerSecond: number;
  readonly builtAt: string;
  readonly builtOnNode: string;
}

/** What names a cached baseline index: the data and the settings it was built from. */
export interface CacheKey {
  readonly data: DataKind;
  readonly seed: number;
  readonly clusters: number;
  readonly fingerprint: string;
}

/** The files of the cached baseline index for these data and settings (they may not exist yet). */
function cacheFiles(cacheDir: string, dims: number, n: number, key: CacheKey): { file: string; infoFile: string } {
  const name = `hnswlib-${hnswlibVersion()}-${key.data}-s${key.seed}-c${key.clusters}-n${n}-dim${dims}-M${HNSW.M}-efc${HNSW.efConstruction}-${key.fingerprint}`;
  return { file: join(cacheDir, `${name}.bin`), infoFile: join(cacheDir, `${name}.json`) };
}

/** Whether `cacheDir` holds the baseline index for these data and settings. */
export function hasCachedIndex(cacheDir: string, dims: number, n: number, key: CacheKey): boolean {
  const { file, infoFile } = cacheFiles(cacheDir, dims, n, key);
  return existsSync(file) && existsSync(infoFile);
}

/**
 * The file of the full baseline index for searches, in `cacheDir`: used as it is when a file for
 * exactly these data and settings is there, else written from `built` (a build this run timed) or
 * built now (30-40 s for 100,000 x 384 here) for this and later runs.
 */
export function cachedIndexFile(
  cacheDir: string,
  vectors: Float32Array,
  dims: number,
  n: number,
  key: CacheKey,
  note: (line: string) => void,
  built?: { index: HierarchicalNSW; ms: number },
): CacheInfo {
  const { file, infoFile } = cacheFiles(cacheDir, dims, n, key);
  if (built === undefined && hasCachedIndex(cacheDir, dims, n, key)) {
    return { file, builtNow: false, ...(JSON.parse(readFileSync(infoFile, 'utf8')) as Omit<CacheInfo, 'file' | 'builtNow'>) };
  }
  if (built === undefined) note(`building the hnswlib-node baseline index (${n} x ${dims}) for ${file}; it is cached for later runs (30-40 s here for 100,000)`);
  const { index, ms } = built ?? timedBuild(vectors, dims, n);
  mkdirSync(cacheDir, { recursive: true });
  index.writeIndexSync(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  const info = { buildVectorsPerSecond: Math.round((n / ms) * 1000), builtAt: new Date().toISOString(), builtOnNode: process.version };
  writeFileSync(infoFile, `${JSON.stringify(info)}\n`);
  return { file, builtNow: true, ...info };
}

/** Reads a baseline index written by {@link cachedIndexFile}, ready to search (ef set); on any thread. */
export function loadIndex(file: string, dims: number, n: number): HierarchicalNSW {
  const index = new (hnswlib().HierarchicalNSW)('ip', dims);
  index.readIndexSync(file);
  if (index.getCurrentCount() !== n) throw new Error(`the baseline index ${file} holds ${index.getCurrentCount()} vectors, not ${n}: delete it to rebuild`);
  index.setEf(HNSW.ef);
  return index;
}

/**
 * {@link exactTopK}, kept in `cacheDir` under the fingerprints of the vectors and the queries: the
 * exact answers of a fixed data set never change, and computing them took 3-5 s of a run here. The
 * suite still checks them against its own JavaScript scan in every run, so a stale file cannot pass.
 */
export function cachedExactTopK(cacheDir: string, vectors: Float32Array, dims: number, queries: Float32Array, count: number, k: number): number[][] {
  const file = join(cacheDir, `exact-top${k}-n${vectors.length / dims}-dim${dims}-q${count}-${fingerprint(vectors)}-${fingerprint(queries)}.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (Array.isArray(cached) && cached.length === count && cached.every((row) => Array.isArray(row) && row.length === k)) return cached as number[][];
  }
  const out = exactTopK(vectors, dims, queries, count, k);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(out));
  renameSync(`${file}.tmp`, file);
  return out;
}

/** Top-k labels of the exact search: the dot product of `query` with every row, best first. */
export function bruteForce(vectors: Float32Array, dims: number, query: Float32Array, k: number): number[] {
  if (dims % 4 !== 0) throw new Error('bruteForce unrolls by 4: dims must be a multiple of 4');
  const n = vectors.length / dims;
  const bestScore: number[] = [];
  const bestLabel: number[] = [];
  for (let i = 0; i < n; i++) {
    const off = i * dims;
    // Four accumulators, as a careful hand-written scan would have (about 2x over one running sum).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < dims; j += 4) {
      s0 += query[j]! * vectors[off + j]!;
      s1 += query[j + 1]! * vectors[off + j + 1]!;
      s2 += query[j + 2]! * vectors[off + j + 2]!;
      s3 += query[j + 3]! * vectors[off + j + 3]!;
    }
    const score = s0 + s1 + s2 + s3;
    if (bestScore.length === k && score <= bestScore[k - 1]!) continue;
    let at = bestScore.length;
    while (at > 0 && bestScore[at - 1]! < score) at--;
    bestScore.splice(at, 0, score);
    bestLabel.splice(at, 0, i);
    if (bestScore.length > k) {
      bestScore.pop();
      bestLabel.pop();
    }
  }
  return bestLabel;
}

/**
 * The exact top `k` of `count` queries by USearch's native exhaustive scan (f32 inner product, no
 * index: every stored vector is scored), for recall over more queries than the JavaScript scan has
 * time for. The suite checks it against that scan's answers to the queries both answered.
 * The binding refuses shared memory and ignores a view's offset (a view at offset 0 is read right);
 * it holds a scratch in proportion to the queries of a call (~1.5 MB per query at 100,000 vectors),
 * so the queries go 50 at a time.
 */
export function exactTopK(vectors: Float32Array, dims: number, queries: Float32Array, count: number, k: number): number[][] {
  const { exactSearch, MetricKind } = require('usearch') as typeof import('usearch');
  const dataset = vectors.byteOffset === 0 && vectors.buffer instanceof ArrayBuffer ? vectors : vectors.slice();
  const out: number[][] = [];
  for (let from = 0; from < count; from += 50) {
    const n = Math.min(50, count - from);
    const found = exactSearch(dataset, queries.slice(from * dims, (from + n) * dims), dims, k, MetricKind.IP, 2);
    for (let i = 0; i < n; i++) out.push(Array.from(found.keys.subarray(i * k, (i + 1) * k), Number));
  }
  return out;
}
