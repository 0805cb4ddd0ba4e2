import { MetricKind, ScalarKind } from 'usearch';
import { FencedIndex, type ThreadContext } from './native-index.js';
import { indexOptions, type NamespaceConfig } from './config.js';
import { addSlots, gather, type AddOptions, INDEX_SLICE, INDEX_THREADS, liveSlots } from './indexing.js';
import { SlotRenumbering, worthCompacting } from './compaction.js';
import type { SharedViews } from './shared-state.js';

/** Who started a rebuild: a caller of `optimize()`, or the owner's own policy (`autoOptimize`). */
export type OptimizeTrigger = 'requested' | 'auto';

/** What `optimize()` did. */
export interface OptimizeReport {
  readonly namespace: string;
  /** Who started it (callers that asked while the owner's own rebuild ran get `auto`). */
  readonly trigger: OptimizeTrigger;
  /** Entries in the rebuilt index. */
  readonly entries: number;
  /** Deleted entries the old index still carried as tombstones (a graph keeps them to route through). */
  readonly tombstonesDropped: number;
  /** Groups of similar entries the index was laid out in (1: too few entries to group). */
  readonly groups: number;
  /**
   * Owner messages the rebuild took (writes, searches and other actors' messages ran between them):
   * an automatic rebuild takes short ones, an asked-for one fewer, longer ones (see `autoOptimize`).
   */
  readonly steps: number;
  /**
   * Slots of deleted and replaced entries the rebuild gave back (0 when it did not compact: see
   * `MemoryStats.written`). A rebuild compacts when a sixteenth of the slots or more are dead, or when
   * the namespace is three quarters full and any are.
   */
  readonly slotsReclaimed: number;
  /** How long searches on every thread were held off while the slots moved (ms; 0 without compaction). */
  readonly readerPauseMs: number;
  /** From the call's arrival at the owner to the snapshot that carries the new index (ms). */
  readonly ms: number;
  /** That snapshot. */
  readonly snapshotVersion: number;
}

/**
 * Entries per group of the layout: ~250 groups at 100,000 entries, the count that gave the fastest
 * searches among 64, 128, 256, 512 and 1,024 there (p50 -19% against arrival order; 1,024 was as
 * fast but its graphs missed more neighbours).
 */
const GROUP_SIZE = 400;
/** Below this many entries the rebuild keeps slot order (a graph this small fits the caches anyway). */
const MIN_GROUPED = 4 * GROUP_SIZE;
/** One in SCAFFOLD_EVERY entries goes in first, in pseudo-random order (see LayoutRebuild). */
const SCAFFOLD_EVERY = 5;
/** Entries assigned to their group per step, per entry inserted per step (a batch search of the pivots, on INDEX_THREADS). */
const ASSIGN_PER_SLICE = 4;

/**
 * A rebuild of a namespace's index from its live entries, laid out so that similar entries sit
 * next to each other in memory. USearch stores nodes in insertion order, and an HNSW search is
 * bound by memory latency: in arrival order its ~1,500 node visits a query land all over a 100 MB
 * index, grouped they land in a few neighbourhoods (measured here: p50 -15-19% at 100,000 x 384,
 * and less slowdown when other tenants load the host's caches).
 *
 * Inserting purely in group order makes a worse graph (recall@10 0.975-0.994 over builds, against
 * 0.991-0.993 in arrival order): the first nodes of each group find no neighbours of their own kind
 * yet. So one entry in SCAFFOLD_EVERY, picked by a hash of its slot, goes in first in hash order (a
 * random sample of the whole set, as arrival order usually is), then the rest group by group
 * (recall 0.993-1.000 over three builds, p50 -13-15%). Groups are the nearest of pivots drawn from
 * the scaffold.
 *
 * The owner runs it a slice per message (`step`), so writes, deletes and snapshots go on meanwhile;
 * they land in the old index as usual, and the rebuild catches up with them before the swap.
 */
export class LayoutRebuild {
  /** The index being built. */
  readonly index: FencedIndex;
  /** Slots below this were live or deleted when the rebuild began; later ones come in the catch-up. */
  readonly upTo: number;
  readonly groups: number;
  readonly tombstones: number;
  readonly startedAt = Date.now();
  readonly #views: SharedViews;
  /** Entries to group, then their group. */
  readonly #rest: number[];
  readonly #groupOf: Int32Array;
  readonly #pivots: FencedIndex | null;
  /** Slot of pivot key -> group number. */
  readonly #pivotGroup: Map<number, number>;
  #assigned = 0;
  /** Insertion order (scaffold, then groups); filled once every entry has its group. */
  readonly #order: number[];
  #ordered = false;
  #built = 0;
  /** Slots from `upTo` up to this are in the new index too. */
  #caughtUp: number;
  /** Entries inserted per step (see `step`). */
  readonly #slice: number;
  /** The new numbering the index is built under, when this rebuild compacts the slots (see compaction.ts). */
  readonly numbering: SlotRenumbering | null;
  /**
   * How the slices go in: keyed by the new numbering when there is one, and a slice under
   * INDEX_SLICE (a background rebuild) one vector at a time, on this thread alone.
   */
  readonly #insert: AddOptions;

  /**
   * `slice`: entries inserted per step. INDEX_SLICE (the default) inserts on INDEX_THREADS threads,
   * holding the owner's thread ~0.15-0.4 s a step at 384-d; a smaller slice inserts one entry at a
   * time on the owner's thread alone, slower overall but in short steps that leave the other actors
   * of that thread, and the other cores, their share. The rebuild also renumbers the slots without
   * the deleted ones (see compaction.ts) when `worthCompacting` says so.
   */
  constructor(config: NamespaceConfig, views: SharedViews, ctx: ThreadContext, upTo: number, slice = INDEX_SLICE) {
    this.#views = views;
    this.#slice = slice;
    this.upTo = upTo;
    this.#caughtUp = upTo;
    this.index = new FencedIndex(indexOptions(config), ctx);
    const live = liveSlots(views, 0, upTo);
    this.tombstones = upTo - live.length;
    this.numbering = worthCompacting(this.tombstones, upTo, views.handles.deleted.maxByteLength) ? new SlotRenumbering(views, upTo) : null;
    const { numbering } = this;
    this.#insert = { keyOf: numbering === null ? undefined : (slot) => numbering.keyOf(slot), oneThread: slice < INDEX_SLICE };
    if (live.length < MIN_GROUPED) {
      this.groups = 1;
      this.#order = live;
      this.#ordered = true;
      this.#rest = [];
      this.#groupOf = new Int32Array(0);
      this.#pivots = null;
      this.#pivotGroup = new Map();
      return;
    }
    const scaffold = live.filter((slot) => mix(slot) % SCAFFOLD_EVERY === 0).sort((a, b) => mix(a) - mix(b));
    this.#rest = live.filter((slot) => mix(slot) % SCAFFOLD_EVERY !== 0);
    this.#groupOf = new Int32Array(this.#rest.length);
    this.#order = scaffold;
    const pivots = scaffold.slice(0, Math.max(1, Math.min(scaffold.length, Math.round(live.length / GROUP_SIZE))));
    this.groups = pivots.length;
    this.#pivotGroup = new Map(pivots.map((slot, group) => [slot, group]));
    // Exact enough: an HNSW graph of a few hundred nodes searched with ef 64 finds the nearest.
    this.#pivots = new FencedIndex({ dimensions: config.dimensions, metric: MetricKind.IP, quantization: ScalarKind.F32, connectivity: 16, expansion_add: 128, expansion_search: 64, multi: false }, ctx);
    addSlots(this.#pivots, views, pivots);
  }

  /** Calls of `step` so far. */
  get steps(): number {
    return this.#steps;
  }

  #steps = 0;

  /** Entries in the new index so far. */
  get size(): number {
    return this.index.size();
  }

  /**
   * One slice of work: assigning groups, inserting, then catching up with the slots the owner
   * indexed since the start (`indexed`). True when the new index holds every live slot below
   * `indexed`, except ones deleted since they went in (see `finish`).
   */
  step(indexed: number): boolean {
    this.#steps++;
    if (!this.#ordered) {
      this.#assign();
      return false;
    }
    if (this.#built < this.#order.length) {
      const slice = this.#order.slice(this.#built, this.#built + this.#slice);
      this.#built += slice.length;
      addSlots(this.index, this.#views, slice.filter((slot) => !this.#views.isDeleted(slot)), this.#insert);
      return false;
    }
    if (this.#caughtUp < indexed) {
      const end = Math.min(indexed, this.#caughtUp + this.#slice);
      const fresh = liveSlots(this.#views, this.#caughtUp, end);
      this.#caughtUp = end;
      addSlots(this.index, this.#views, fresh, this.#insert);
      return this.#caughtUp === indexed;
    }
    return true;
  }

  /**
   * Removes what was deleted after it went into the new index; then the index holds exactly the
   * live slots below `indexed` (the caller checked `step(indexed)` in this same turn).
   */
  finish(indexed: number): FencedIndex {
    for (let slot = 0; slot < indexed; slot++) {
      if (!this.#views.isDeleted(slot)) continue;
      const key = this.numbering === null ? slot : this.numbering.keyOf(slot);
      if (key >= 0 && this.index.contains(BigInt(key))) this.index.remove(BigInt(key)); // -1: dropped, never in
    }
    return this.index;
  }

  #assign(): void {
    // Assigning is ~4x cheaper an entry than inserting: steps of 4 slices (8,192 at INDEX_SLICE).
    const slice = this.#rest.slice(this.#assigned, this.#assigned + this.#slice * ASSIGN_PER_SLICE);
    // A copy: the binding's search is not given shared memory.
    const keys = this.#pivots!.search(gather(this.#views, slice), 1, INDEX_THREADS);
    for (let i = 0; i < slice.length; i++) this.#groupOf[this.#assigned + i] = this.#pivotGroup.get(Number(keys[i]))!;
    this.#assigned += slice.length;
    if (this.#assigned < this.#rest.length) return;
    // Group by group, slots in order within each (a counting sort).
    const starts = new Int32Array(this.groups + 1);
    for (const group of this.#groupOf) starts[group + 1]!++;
    for (let g = 0; g < this.groups; g++) starts[g + 1]! += starts[g]!;
    const grouped = new Array<number>(this.#rest.length);
    this.#rest.forEach((slot, i) => (grouped[starts[this.#groupOf[i]!]!++] = slot));
    for (const slot of grouped) this.#order.push(slot);
    this.#ordered = true;
  }
}

/** A 32-bit mix of a slot (murmur3's finaliser): a reproducible pseudo-random rank. */
function mix(slot: number): number {
  let h = slot ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
