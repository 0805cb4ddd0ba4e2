import { statSync } from 'node:fs';
import { Index, type IndexConfig } from 'usearch';
import type { ActorContext } from '@apiary/runtime';

/*
 * Every call into USearch goes through a FencedIndex, for two reasons that both come from the
 * thread the call runs on:
 * - Termination. A worker thread terminated in the middle of a native call aborts the whole
 *   process (see the runtime's native-calls.ts), so each call runs inside `ctx.nativeCall`, which
 *   the runtime waits for before it terminates the thread.
 * - Heartbeats. USearch saves, loads and views an index in one synchronous call: 4.5 s for a
 *   2.5-million-entry index of 16-d vectors here, longer for bigger ones, and a worker thread silent
 *   for the heartbeat timeout (5 s) is killed. Those calls run inside blocking sections, bounded by
 *   the file's size at a disk speed well below what was measured.
 * The owner's index uses the owner's actor context; a reader's index the context of the actor whose
 * search viewed it (any actor of the thread: the fence and the heartbeat are the thread's).
 */

/** The calls of a thread a FencedIndex needs: an actor context, or one that runs calls at once (the main thread). */
export type ThreadContext = Pick<ActorContext, 'blocking' | 'nativeCall'>;

/** Slowest disk the bounds allow for: 20 MB/s (a 2.5-million-entry index file loaded at ~110 MB/s here). */
const SLOWEST_BYTES_PER_MS = 20_000;
/** Least bound of a section: opening files, a cold page cache. */
const LEAST_BOUND_MS = 10_000;

/** The bound of a blocking call that moves `bytes` to or from disk. */
export function ioBoundMs(bytes: number): number {
  return LEAST_BOUND_MS + Math.ceil(bytes / SLOWEST_BYTES_PER_MS);
}

/** A USearch index whose calls all run inside the thread's native fence (see above). */
export class FencedIndex {
  readonly #index: Index;
  readonly #ctx: ThreadContext;
  /** Bytes per entry of a saved file, over-estimated: the vector in f32 plus the graph's links. */
  readonly #savedBytesPerEntry: number;

  constructor(options: IndexConfig, ctx: ThreadContext) {
    this.#ctx = ctx;
    this.#index = ctx.nativeCall(() => new Index(options));
    this.#savedBytesPerEntry = options.dimensions * 4 + options.connectivity * 2 * 8 + 64;
  }

  /** Entries in the index. */
  size(): number {
    return this.#ctx.nativeCall(() => this.#index.size());
  }

  /** Adds one entry (`keys` a bigint) or a batch (`vectors` row after row), on `threads` threads. */
  add(keys: bigint | BigUint64Array, vectors: Float32Array, threads: number): void {
    this.#ctx.nativeCall(() => this.#index.add(keys, vectors, threads));
  }

  /** Whether `key` is in the index. */
  contains(key: bigint): boolean {
    return this.#ctx.nativeCall(() => this.#index.contains(key)) === true;
  }

  /** Removes `key`. */
  remove(key: bigint): void {
    this.#ctx.nativeCall(() => this.#index.remove(key));
  }

  /** The keys of the `k` nearest entries of each query in `queries` (row after row), best first. */
  search(queries: Float32Array, k: number, threads: number): BigUint64Array {
    return this.#ctx.nativeCall(() => this.#index.search(queries, k, threads).keys);
  }

  /** Saves the index to `path`, in a blocking section bounded by an over-estimate of the file. */
  save(path: string): void {
    this.#fileCall(() => this.#index.save(path), this.size() * this.#savedBytesPerEntry);
  }

  /**
   * Views the file at `path` read-only, in a blocking section: mapping the file is quick, but
   * USearch then walks every node of it (~0.4 s for a million entries here), on every thread that
   * searches.
   */
  view(path: string): void {
    this.#fileCall(() => this.#index.view(path), statSync(path).size);
  }

  /** Loads the file at `path` into the index, in a blocking section. */
  load(path: string): void {
    this.#fileCall(() => this.#index.load(path), statSync(path).size);
  }

  /** A native call that moves a file of `bytes` to or from disk: fenced, in a section bounded for them. */
  #fileCall(fn: () => void, bytes: number): void {
    this.#ctx.blocking(() => this.#ctx.nativeCall(fn), { maxMs: ioBoundMs(bytes) });
  }
}
