import { availableParallelism } from 'node:os';
import type { FencedIndex } from './native-index.js';
import type { SharedViews } from './shared-state.js';

/** Slots indexed between two turns of the event loop (~0.4 s at 384-d on this machine's cores). */
export const INDEX_SLICE = 2_048;

/** Cores a batch insert (or a rebuild's batch search) may keep busy: two at most, so others are left for the rest of the system. */
const INDEX_CORES = Math.min(2, availableParallelism());

/**
 * Threads given to every insert: two per core it may use. The binding splits a batch into equal
 * shares, one per thread, and the call lasts as long as its slowest share; with one share per core,
 * a core taken by anything else (another thread of this process, the host's other tenants) held the
 * whole batch back while the other core sat idle. With two per core the scheduler moves the shares
 * still waiting to the core that is free. Measured here over whole 100,000 x 384 loads, in turns in
 * one process: 4 threads took 0.90-0.96 of the time of 2 in six runs and 0.98 in a quiet one (3: the
 * same as 2; 8: between 2 and 4), with the same recall (0.995-0.997 against 0.991-0.997) and search
 * p50.
 *
 * Always the same count: the binding sizes the index's per-thread contexts by the `threads` of the
 * insert that last grew its capacity, and a later insert with more threads fails part-way ("Reserve
 * capacity ahead of insertions!"), which passing 1 and 2 used to do. (An insert of one vector runs
 * on one thread whatever it is given.)
 */
export const INDEX_THREADS = 2 * INDEX_CORES;

/** Resolves after the event loop has run once (timers, the heartbeat, other actors' messages). */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How {@link addSlots} inserts. */
export interface AddOptions {
  /** The key of a slot, for an index built under a new numbering (a compacting rebuild); default the slot. */
  readonly keyOf?: (slot: number) => number;
  /**
   * One vector at a time on the calling thread, whatever the batch: a rebuild nobody asked for
   * leaves the other cores alone (see BACKGROUND_SLICE in owner-optimize.ts). Default: on INDEX_THREADS
   * threads when {@link concurrently} says so.
   */
  readonly oneThread?: boolean;
}

/**
 * Adds the rows of `slots` (committed, live, each not in `index` yet) to `index`, keyed as `options`
 * says. Rows never change once committed, and the buffers cannot grow under the call (only the
 * owner's thread grows them).
 */
export function addSlots(index: FencedIndex, views: SharedViews, slots: readonly number[], options: AddOptions = {}): void {
  if (slots.length === 0) return;
  const { dimensions } = views;
  const { keyOf, oneThread = false } = options;
  const keys = keyOf === undefined ? BigUint64Array.from(slots, (slot) => BigInt(slot)) : BigUint64Array.from(slots, (slot) => BigInt(keyOf(slot)));
  // Slots in one run (no deletion among them: a bulk load) go to the index as a view of their
  // shared rows, which the binding's add reads in place (byteOffset honoured, tested); others are
  // gathered into a copy.
  const first = slots[0]!;
  const vectors =
    slots[slots.length - 1]! - first + 1 === slots.length ? views.vectors.subarray(views.row(first), views.row(first) + slots.length * dimensions) : gather(views, slots);
  try {
    if (!oneThread && concurrently(index.size(), slots.length)) index.add(keys, vectors, INDEX_THREADS);
    else addEach(index, keys, vectors, dimensions);
  } catch (error) {
    // A batch that failed part-way left some of its keys in the index: add the rest one by one, so
    // that the caller can move on (else every later attempt would fail on the same duplicate keys).
    addEach(index, keys, vectors, dimensions);
    if (!keys.every((key) => index.contains(key))) throw error;
  }
}

/**
 * Whether a batch of `batch` vectors goes into an index of `size` entries on INDEX_THREADS threads.
 * Concurrent insertion builds a slightly looser graph: in a small index, a few in a thousand
 * self-queries missed (measured at 300-400 entries with small batches), so there small batches go
 * in one at a time. From INDEX_SLICE entries on the looseness did not show (self-recall 0.9998-1.0
 * for 8,192 entries added in batches of 64-1,024 to 2,048 and 16,384, seeded clustered 384-d data)
 * and two threads took 0.5-0.8 of the time of one, so a batch of CONCURRENT_BATCH or more goes
 * concurrently there: the steady writes of a swarm, and the last part of a bulk load.
 */
export function concurrently(size: number, batch: number): boolean {
  return batch >= INDEX_SLICE || (size >= INDEX_SLICE && batch >= CONCURRENT_BATCH);
}

/** The smallest batch worth starting the binding's threads for (they start anew at every call). */
const CONCURRENT_BATCH = 64;

/** The live (not deleted) slots in [from, to), in order. */
export function liveSlots(views: SharedViews, from: number, to: number): number[] {
  const live: number[] = [];
  for (let slot = from; slot < to; slot++) if (!views.isDeleted(slot)) live.push(slot);
  return live;
}

/** The rows of `slots`, copied into one array. */
export function gather(views: SharedViews, slots: readonly number[]): Float32Array {
  const { dimensions } = views;
  const out = new Float32Array(slots.length * dimensions);
  slots.forEach((slot, i) => out.set(views.vectors.subarray(views.row(slot), views.row(slot) + dimensions), i * dimensions));
  return out;
}

/**
 * Inserts the keys not in the index yet, one vector at a time: each runs on one thread, while the
 * binding is still told INDEX_THREADS.
 */
function addEach(index: FencedIndex, keys: BigUint64Array, vectors: Float32Array, dimensions: number): void {
  for (let i = 0; i < keys.length; i++) {
    if (!index.contains(keys[i]!)) index.add(keys[i]!, vectors.subarray(i * dimensions, (i + 1) * dimensions), INDEX_THREADS);
  }
}
