/**
 * Behaviors of the `memory` suite, loaded by URL on the worker threads. Every time they report is
 * taken on the thread that does the work, with that thread's `performance.now()`, and only durations
 * travel back (clocks of different threads are never compared).
 */
import { defineBehavior, type ActorRef } from '@apiary/runtime';
import { openNamespace, type MemoryNamespace, type NamespaceHandle } from '@apiary/memory';
import type { HierarchicalNSW } from 'hnswlib-node';
import { asArrays, loadIndex } from './baselines.ts';

/**
 * What a searcher is given at spawn: the namespace, the held-out queries (copied to its thread
 * once), and the baseline's index file, which it loads to search it on the same thread.
 */
export interface SearcherProps {
  readonly handle: NamespaceHandle;
  readonly queries: Float32Array;
  readonly dims: number;
  readonly baseline: { readonly file: string; readonly n: number };
}

export type SearcherMsg =
  /** Searches queries [from, to) one at a time, timing each `searchNow` alone. */
  | { readonly type: 'block'; readonly from: number; readonly to: number; readonly k: number }
  /** The same with the baseline (hnswlib-node `searchKnn`), on this thread too. */
  | { readonly type: 'baseline-block'; readonly from: number; readonly to: number; readonly k: number }
  /** Whether a search for `vector` finds `id` in its top k (for the fresh-write figure). */
  | { readonly type: 'find'; readonly id: string; readonly vector: Float32Array; readonly k: number }
  | { readonly type: 'thread' };

/** A block's answer: one duration per query (ms) and the ids each query found, best first. */
export interface BlockResult {
  readonly samplesMs: number[];
  readonly ids: string[][];
}

interface SearcherState {
  readonly ns: MemoryNamespace;
  /** One Float32Array per query, made at setup so the timed loop only searches. */
  readonly queries: readonly Float32Array[];
  readonly baseline: HierarchicalNSW;
  /** The queries as hnswlib-node takes them (`number[]`), converted untimed: its best case. */
  readonly baselineQueries: readonly number[][];
}

/** Times `search` over queries [from, to) one at a time on this thread; ids are read after each timing. */
export function timeBlock<T>(from: number, to: number, search: (i: number) => T, idsOf: (result: T) => string[]): BlockResult {
  const samplesMs: number[] = [];
  const ids: string[][] = [];
  for (let i = from; i < to; i++) {
    const t0 = performance.now();
    const result = search(i);
    samplesMs.push(performance.now() - t0);
    ids.push(idsOf(result));
  }
  return { samplesMs, ids };
}

/** Searches a namespace from the thread it is placed on, through its own client (`openNamespace`). */
export const searcher = defineBehavior(import.meta.url, 'searcher', {
  setup(props: SearcherProps, ctx): SearcherState {
    const count = props.queries.length / props.dims;
    return {
      ns: openNamespace(props.handle, ctx),
      queries: Array.from({ length: count }, (_, i) => props.queries.slice(i * props.dims, (i + 1) * props.dims)),
      baseline: loadIndex(props.baseline.file, props.dims, props.baseline.n),
      baselineQueries: asArrays(props.queries, props.dims, 0, count),
    };
  },
  receive(state, msg: SearcherMsg, ctx): BlockResult | boolean | number {
    switch (msg.type) {
      case 'block':
        return timeBlock(msg.from, msg.to, (i) => state.ns.searchNow(state.queries[i]!, { k: msg.k }), (hits) => hits.map((h) => h.id));
      case 'baseline-block':
        return timeBlock(msg.from, msg.to, (i) => state.baseline.searchKnn(state.baselineQueries[i]!, msg.k), (r) => r.neighbors.map((label) => `v${label}`));
      case 'find':
        return state.ns.searchNow(msg.vector, { k: msg.k }).some((h) => h.id === msg.id);
      case 'thread':
        return ctx.thread;
      default: {
        const never: never = msg;
        throw new Error(`unknown searcher message ${JSON.stringify(never)}`);
      }
    }
  },
});

/** What a writer is given at spawn: the namespace and the searcher that must find its writes. */
export interface WriterProps {
  readonly handle: NamespaceHandle;
  readonly searcher: ActorRef<SearcherMsg, BlockResult | boolean | number>;
}

export type WriterMsg = { readonly type: 'write'; readonly id: string; readonly vector: Float32Array };

/**
 * One fresh write, timed on the writer's thread: `ackMs` from `add()` called to acknowledged;
 * `visibleMs` from acknowledged to the searcher (another thread) answering that its search found the
 * entry, asked again until it does (`attempts`). `visibleMs` therefore includes one ask round trip to
 * the searcher's thread per attempt: an upper bound on the visibility delay, not the delay alone.
 */
export interface FreshWrite {
  readonly ackMs: number;
  readonly visibleMs: number;
  readonly attempts: number;
}

/** Gives up after this many searches that miss an acknowledged write (it would be a bug). */
const MAX_ATTEMPTS = 10_000;

/** Writes one entry through its own client, then waits until the searcher's thread finds it. */
export const writer = defineBehavior(import.meta.url, 'writer', {
  setup: (props: WriterProps, ctx) => ({ ns: openNamespace(props.handle, ctx), searcher: props.searcher }),
  async receive(state, msg: WriterMsg, ctx): Promise<FreshWrite> {
    const t0 = performance.now();
    await state.ns.add({ id: msg.id, vector: msg.vector });
    const acked = performance.now();
    for (let attempts = 1; attempts <= MAX_ATTEMPTS; attempts++) {
      const found = await ctx.ask(state.searcher, { type: 'find', id: msg.id, vector: msg.vector, k: 10 });
      if (found === true) return { ackMs: acked - t0, visibleMs: performance.now() - acked, attempts };
    }
    throw new Error(`${msg.id} was acknowledged but not found by ${MAX_ATTEMPTS} searches on another thread`);
  },
});
