import { join } from 'node:path';
import { MetricKind, ScalarKind, type IndexConfig } from 'usearch';
import type { SharedHandles } from './shared-state.js';

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
  /** Vectors the shared write tail holds. Default 16384 (24 MB at 384-d). */
  readonly tailCapacity?: number;
  /**
   * Publish a snapshot when this many writes are not in one yet. Default 393216 / dimensions (1,024 at
   * 384-d), at least 64. Under a steady stream of writes snapshots are also spaced so that writing
   * them takes at most 10% of the owner's time (a snapshot saves the whole index).
   */
  readonly snapshotEveryWrites?: number;
  /** ...or when the oldest such write is this old. Default 1000 ms. */
  readonly snapshotEveryMs?: number;
  /** Entries the namespace can hold. Default 4,000,000. */
  readonly maxEntries?: number;
  /** Bytes of ids and metadata it can hold. Default 1 GiB. */
  readonly maxRecordBytes?: number;
}

/** Everything a thread needs to use a namespace: plain data, so it can travel in messages and props. */
export interface NamespaceConfig {
  readonly name: string;
  readonly dimensions: number;
  readonly connectivity: number;
  readonly expansionAdd: number;
  readonly expansionSearch: number;
  readonly indexThreshold: number;
  readonly snapshotEveryWrites: number;
  readonly snapshotEveryMs: number;
  /** Where snapshots are written for readers to view (a tmpfs when there is one). */
  readonly snapshotDir: string;
  /** Unique file name stem of this namespace in `snapshotDir`. */
  readonly fileStem: string;
  /** Persistence directory of this namespace, or null for memory that dies with the process. */
  readonly persistDir: string | null;
  readonly shared: SharedHandles;
}

/** The USearch settings of a namespace: inner product on normalised vectors (cosine), f16 storage. */
export function indexOptions(config: NamespaceConfig): IndexConfig {
  return {
    dimensions: config.dimensions,
    metric: MetricKind.IP,
    quantization: ScalarKind.F16,
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
