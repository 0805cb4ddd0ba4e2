import { join } from 'node:path';
import { MetricKind, ScalarKind, type IndexConfig } from 'usearch';
import type { SharedHandles } from './shared-state.js';
import type { AutoOptimizeOptions, AutoOptimizePolicy } from './auto-optimize.js';

/** Tuning of a namespace. Every default is listed. */
export interface NamespaceOptions {
  /** Vector length. Required. */
  readonly dimensions: number;
  /** HNSW links per node (M). Default 16. */
  readonly connectivity?: number;
  /** Candidates kept while inserting (efConstruction). Default 128. */
  readonly expansionAdd?: number;
  /** Candidates kept while searching (ef). Default 64. */
  readonly expansionSearch?: number;
  /** Below this many entries there is no index: searches brute-force the shared tail. Default 131072 / dimensions (341 at 384-d). */
  readonly indexThreshold?: number;
  /**
   * How the index stores vectors: `bf16` (default), `f16` or `f32`. The index only proposes
   * candidates; every hit is scored on the exact f32 vector kept in shared memory, so the choice
   * trades the index's size and speed against how often a true neighbour is missed by the graph.
   * bf16: half of f32's memory, the fastest inserts and searches where the CPU has bf16 dot products
   * (AVX-512 BF16, Arm BF16) and no worse recall than f16 on the suite's data (benchmarks/README.md).
   */
  readonly quantization?: IndexQuantization;
  /**
   * Most entries written but not yet in a published snapshot (the tail, which every search scans by
   * brute force); a write that would pass it first waits for a snapshot. Default 16384.
   */
  readonly tailCapacity?: number;
  /**
   * Publish a snapshot when this many writes are not in one yet. Default 393216 / dimensions (1,024 at
   * 384-d), at least 64. Under a steady stream of writes snapshots are also spaced so that writing
   * them takes at most 10% of the owner's time (a snapshot saves the whole index).
   */
  readonly snapshotEveryWrites?: number;
  /** ...or when the oldest such write is this old. Default 1000 ms. */
  readonly snapshotEveryMs?: number;
  /**
   * Entries the namespace can hold. Default: 4,000,000, or fewer when their f32 vectors would pass
   * 4 GiB (Node 20's largest shared buffer: 2,796,202 at 384-d). The shared memory grows as needed.
   */
  readonly maxEntries?: number;
  /** Bytes of ids and metadata it can hold. Default 1 GiB. */
  readonly maxRecordBytes?: number;
  /**
   * When the owner runs `optimize()` on its own, after writes pause (see AutoOptimizeOptions for the
   * defaults: from 20,000 entries, once half the index arrived since the last layout or a quarter of
   * it was deleted, after 2 s without writes). `false`: only when asked.
   */
  readonly autoOptimize?: AutoOptimizeOptions | false;
}

/** How a namespace's index stores vectors. */
export type IndexQuantization = 'bf16' | 'f16' | 'f32';
/** The quantizations a namespace takes, for validation. */
export const INDEX_QUANTIZATIONS: readonly IndexQuantization[] = ['bf16', 'f16', 'f32'];

/** Everything a thread needs to use a namespace: plain data, so it can travel in messages and props. */
export interface NamespaceConfig {
  readonly name: string;
  readonly dimensions: number;
  readonly connectivity: number;
  readonly expansionAdd: number;
  readonly expansionSearch: number;
  readonly quantization: IndexQuantization;
  readonly indexThreshold: number;
  readonly tailCapacity: number;
  readonly snapshotEveryWrites: number;
  readonly snapshotEveryMs: number;
  /** When the owner optimizes on its own (null: never). */
  readonly autoOptimize: AutoOptimizePolicy | null;
  /** Where snapshots are written for readers to view (a tmpfs when there is one). */
  readonly snapshotDir: string;
  /** Unique file name stem of this namespace in `snapshotDir`. */
  readonly fileStem: string;
  /** Persistence directory of this namespace, or null for memory that dies with the process. */
  readonly persistDir: string | null;
  readonly shared: SharedHandles;
}

const SCALAR_KINDS: Readonly<Record<IndexQuantization, ScalarKind>> = { bf16: ScalarKind.BF16, f16: ScalarKind.F16, f32: ScalarKind.F32 };

/** The USearch settings of a namespace: inner product on normalised vectors (the cosine). */
export function indexOptions(config: NamespaceConfig): IndexConfig {
  return {
    dimensions: config.dimensions,
    metric: MetricKind.IP,
    quantization: SCALAR_KINDS[config.quantization],
    connectivity: config.connectivity,
    expansion_add: config.expansionAdd,
    expansion_search: config.expansionSearch,
    multi: false,
  };
}

/** The file of snapshot `version`. */
export function snapshotPath(config: NamespaceConfig, version: number): string {
  return join(config.snapshotDir, `${config.fileStem}.v${version}.usearch`);
}
