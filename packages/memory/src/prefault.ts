import type { SharedWriter } from './writer.js';

/** Floats in a 4 KiB memory page. */
const PAGE_FLOATS = 1_024;
/**
 * Pages touched per turn of the event loop: ~0.7 ms here (~11 us a first touch), so a message that
 * arrives meanwhile waits about that long.
 */
const PAGES_PER_TURN = 64;

/**
 * Touches the shared rows the owner's next writes will take, while its thread has nothing else to
 * do. The first write to a page of fresh shared memory costs a page fault, and on this kind of
 * virtual machine a fault costs ~11 us, so copying 2,048 rows of 384-d (3 MiB) into fresh rows took
 * ~11 ms of the ~15 ms an add message held the owner (~0.4 s of a 100,000 load), while the owner
 * sat idle between a writer's calls. Touched ahead, the faults come in those idle moments, on this
 * core, while the writer's thread prepares its next call on the other.
 *
 * Only rows above the committed ones are touched (no reader looks there, and the owner overwrites
 * them when it writes them), only within the buffer as it is (it is not grown for this), a few
 * pages a turn so that messages are not held up, and only on the owner's thread, like every write.
 */
export class RowPrefaulter {
  readonly #writer: SharedWriter;
  /** Floats of `vectors` below this were touched (or written). */
  #touched = 0;
  /** Floats up to which the pages are wanted. */
  #target = 0;
  #turn: ReturnType<typeof setImmediate> | null = null;

  constructor(writer: SharedWriter) {
    this.#writer = writer;
  }

  /**
   * After a write of `rows` entries: wants the rows of two more writes like it touched. Two, because
   * a bulk writer's calls often come as two messages (ADD_MESSAGE_ENTRIES each), and the owner indexes
   * the first before it takes the second: the idle moment before a call is the one to fill.
   */
  ahead(rows: number): void {
    const { dimensions } = this.#writer;
    this.#target = Math.max(this.#target, (this.#writer.committed() + 2 * rows) * dimensions);
    if (this.#turn === null && this.#target > this.#touched) this.#turn = setImmediate(() => this.#step());
  }

  /** @internal Floats of the vectors buffer below which every page was touched or written; for tests. */
  get touched(): number {
    return this.#touched;
  }

  /** @internal Whether touching is under way (a turn is pending); for tests. */
  get busy(): boolean {
    return this.#turn !== null;
  }

  /** Stops touching (the owner stops or restarts). */
  stop(): void {
    if (this.#turn !== null) clearImmediate(this.#turn);
    this.#turn = null;
  }

  #step(): void {
    this.#turn = null;
    const vectors = this.#writer.vectors;
    // The first whole page above the committed rows: the page that holds their end was written.
    const committedEnd = this.#writer.committed() * this.#writer.dimensions;
    let at = Math.max(this.#touched, Math.ceil(committedEnd / PAGE_FLOATS) * PAGE_FLOATS);
    const end = Math.min(this.#target, vectors.length, at + PAGES_PER_TURN * PAGE_FLOATS);
    for (; at < end; at += PAGE_FLOATS) vectors[at] = 0;
    this.#touched = Math.max(this.#touched, at);
    if (at < Math.min(this.#target, vectors.length)) this.#turn = setImmediate(() => this.#step());
  }
}
