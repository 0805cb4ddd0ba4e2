import type { FencedIndex } from './native-index.js';
import { H, type SharedViews } from './shared-state.js';
import { announceSnapshot, saveSnapshot, type OwnerState } from './owner-state.js';

/*
 * Compaction: deleted and replaced entries keep their slot (row, record, offsets) until a rebuild of
 * the index (`optimize()`, by hand or automatic) renumbers the slots without them. The rebuild
 * builds its new index under the new numbers; when it is swapped in, the owner moves every kept
 * slot down to its number in place, in one synchronous turn, under a sequence lock that readers on
 * other threads respect (they wait while it is odd and search again if it moved under them), and
 * publishes the new index in the same window. Moving down in slot order never overwrites a slot
 * not yet moved, and records lie in the bytes in slot order, so they move down the same way.
 */

/**
 * The numbering a rebuild begun at `upTo` gives the slots: those below `upTo` that were live then
 * keep their order and close up (`liveAtStart` of them); slots written during the rebuild follow
 * in order. Slots deleted during the rebuild keep a number (as deleted slots, reclaimed next time).
 */
export class SlotRenumbering {
  readonly liveAtStart: number;
  /** New number of each slot below `upTo` (-1: dropped). */
  readonly #newSlot: Int32Array;

  constructor(
    views: SharedViews,
    readonly upTo: number,
  ) {
    this.#newSlot = new Int32Array(upTo);
    let next = 0;
    for (let slot = 0; slot < upTo; slot++) this.#newSlot[slot] = views.isDeleted(slot) ? -1 : next++;
    this.liveAtStart = next;
  }

  /** Slots that go. */
  get dropped(): number {
    return this.upTo - this.liveAtStart;
  }

  /** The new number of `slot` (-1 if it is dropped). */
  keyOf(slot: number): number {
    return slot < this.upTo ? this.#newSlot[slot]! : this.liveAtStart + slot - this.upTo;
  }
}

/** The move of a compaction failed part-way: the namespace's shared memory is no longer consistent. */
export class CompactionInterrupted extends Error {
  constructor(cause: unknown) {
    super('the move of a compaction failed part-way', { cause });
  }
}

/**
 * Whether a rebuild should compact: when a sixteenth of the slots or more would go, or when the
 * namespace is three quarters full and any would. Each compaction pauses every reader for the move
 * (24-29 ms at 100,000 x 384 with 10% or 50% of them deleted, measured here), so a few dead slots wait.
 */
export function worthCompacting(dead: number, upTo: number, maxEntries: number): boolean {
  return dead > 0 && (dead * 16 >= upTo || upTo * 4 >= maxEntries * 3);
}

/** Slowest in-place copy a move's bound allows for: 200 MB/s (moves ran at ~10 GB/s here). */
const SLOWEST_MOVE_BYTES_PER_MS = 200_000;
/** Slowest renumbering of the owner's id map a bound allows for: 1,000 entries a ms (~10x what ran here). */
const SLOWEST_RENUMBERED_PER_MS = 1_000;
/** Least bound of a move's section. */
const LEAST_MOVE_BOUND_MS = 1_000;

/**
 * The bound of the blocking section of a move over `slots` slots of `dimensions`-d vectors and
 * `recordBytes` of records: every byte of them copied at most once, then the id map renumbered.
 */
export function moveBoundMs(slots: number, dimensions: number, recordBytes: number): number {
  const bytes = slots * (dimensions * 4 + 17) + recordBytes; // rows, offsets (16) and deleted flags (1)
  return LEAST_MOVE_BOUND_MS + Math.ceil(bytes / SLOWEST_MOVE_BYTES_PER_MS + slots / SLOWEST_RENUMBERED_PER_MS);
}

/**
 * Swaps in `index` (built under `numbering`, holding every live slot below `state.indexed`) by
 * moving the slots to their new numbers and publishing it as the next snapshot, readers held off
 * for the move. The file is written first, outside the readers' pause. Persistence, when the
 * namespace has it, must checkpoint next: the write log's slot numbers are the old ones. Returns how
 * long readers were held off (ms).
 *
 * The move is one synchronous turn (~1 s for the 4 GiB of a full 384-d namespace). A thread
 * terminated in the middle of it would leave the slots half moved, which no owner can recover from
 * (see recovery.ts). So it is a declared blocking section (no heartbeat kill within its bound), and
 * it runs inside the thread's native fence (`ctx.nativeCall`): the runtime terminates the thread,
 * for a crash drill, a missed heartbeat or a stop, only once the move is over.
 */
export function publishCompacted(state: OwnerState, index: FencedIndex, numbering: SlotRenumbering): number {
  const { writer } = state;
  const started = Date.now();
  const previous = writer.snapshot().version;
  const committed = writer.committed();
  saveSnapshot(state, index, previous + 1); // may fail: then nothing has changed
  const covered = numbering.keyOf(state.indexed); // the first slot not in the index (indexed >= upTo)
  const maxMs = moveBoundMs(committed, state.config.dimensions, Atomics.load(writer.header, H.RECORD_BYTES));
  const pauseMs = state.ctx.blocking(() => state.ctx.nativeCall(() => {
    const paused = performance.now();
    Atomics.add(writer.header, H.LAYOUT_SEQ, 1); // odd: readers wait
    try {
      writer.moveSlots(committed, (slot) => numbering.keyOf(slot));
      writer.publish(previous + 1, covered);
    } catch (error) {
      // Half moved: the sequence stays odd, so that no reader takes the slots for what they were
      // (searches fail after their wait; a restarted owner refuses to recover from them).
      throw new CompactionInterrupted(error);
    }
    Atomics.add(writer.header, H.LAYOUT_SEQ, 1);
    Atomics.notify(writer.header, H.LAYOUT_SEQ);
    const ms = performance.now() - paused;
    for (const [id, slot] of state.ids) state.ids.set(id, numbering.keyOf(slot));
    return ms;
  }), { maxMs });
  state.index = index;
  state.indexed = covered;
  announceSnapshot(state, previous, started, 'optimized');
  return pauseMs;
}
