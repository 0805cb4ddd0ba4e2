/**
 * The memory of one namespace that every thread shares, in SharedArrayBuffers:
 *
 * - `header` (Int32): counters, published with Atomics so a reader that sees a count sees the data.
 * - `vectors` (growable Float32): every entry's vector, normalised, slot `s` at row `s`. Entries not
 *   yet in a published index snapshot are found by brute force over their rows; index candidates
 *   are scored again on theirs, so every score is exact whatever the index stores.
 * - `records` (growable bytes) and `offsets` (growable Float64 pairs): each entry's id, metadata,
 *   origin and time, for every slot ever written (index hits need them too), laid out as
 *   {@link RECORD_HEADER} below says: a search decodes ten of them or more, so id, origin and time
 *   are read straight from the bytes, and only the metadata is JSON.
 * - `deleted` (growable Uint8): one byte per slot, set when the entry is deleted or replaced.
 *
 * One writer (the namespace's owner actor) appends; every other thread only reads. A slot becomes
 * visible when the owner stores the new `committed` count, after everything of the slot is written.
 * A slot's row and record never change once committed, except when the owner compacts the slots
 * (dropping deleted ones) under the `LAYOUT_SEQ` sequence lock, which readers respect.
 */
import { InvalidArgumentError } from '@apiary/runtime';

/** Header fields (Int32 indices). */
export const H = {
  /** Slots written and visible (entries ever added, deleted ones included). */
  COMMITTED: 0,
  /** The published snapshot's version (0: none). */
  VERSION: 1,
  /** Slots below this are in snapshot `version`; double-buffered by version parity (2 and 3). */
  COVERED_EVEN: 2,
  COVERED_ODD: 3,
  /** Live entries (committed minus deleted), for stats. */
  LIVE: 4,
  /** Bytes used in `records`. Written by the owner only. */
  RECORD_BYTES: 5,
  /** Bumped every time the owner starts (a restart after a crash included). */
  INCARNATION: 6,
  /**
   * Odd while the owner compacts the slots in place (see compaction.ts): readers wait for it to be
   * even, and search again if it changed under them (a sequence lock).
   */
  LAYOUT_SEQ: 7,
  /**
   * What the automatic optimize goes by (auto-optimize.ts), here so that a restarted owner keeps
   * them: entries in the index after its last layout, and entries inserted into and removed from
   * it since (a restart re-indexes the tail, counted again). Written by the owner only.
   */
  LAID_OUT: 8,
  INSERTED_SINCE_LAYOUT: 9,
  REMOVED_SINCE_LAYOUT: 10,
  /** 1 once the namespace's memory was stopped: local searches fail (UnknownNamespaceError) instead of reading what is left. */
  CLOSED: 11,
} as const;
const HEADER_INTS = 16;

/** What the automatic optimize goes by, as counted since the last layout (in the shared header). */
export interface LayoutCounts {
  readonly laidOut: number;
  readonly insertedSince: number;
  readonly removedSince: number;
}

export function layoutCounts(header: Int32Array): LayoutCounts {
  return { laidOut: Atomics.load(header, H.LAID_OUT), insertedSince: Atomics.load(header, H.INSERTED_SINCE_LAYOUT), removedSince: Atomics.load(header, H.REMOVED_SINCE_LAYOUT) };
}

export function setLayoutCounts(header: Int32Array, counts: LayoutCounts): void {
  Atomics.store(header, H.LAID_OUT, counts.laidOut);
  Atomics.store(header, H.INSERTED_SINCE_LAYOUT, counts.insertedSince);
  Atomics.store(header, H.REMOVED_SINCE_LAYOUT, counts.removedSince);
}

/**
 * Runs `read` (which reads the shared memory of the namespace whose header this is) under the
 * sequence lock of compaction (LAYOUT_SEQ; see compaction.ts): waits while a compaction is under
 * way (odd), and runs `read` again if one began while it ran: what it read may be torn, and reading
 * it may even have thrown, which counts only if the sequence did not move. Throws what `timedOut`
 * makes if a compaction lasts longer than `waitMs` (only a thread that died during one leaves it odd).
 */
export function readStable<T>(header: Int32Array, read: () => T, waitMs: number, timedOut: () => Error): T {
  for (;;) {
    const seq = Atomics.load(header, H.LAYOUT_SEQ);
    if (seq % 2 === 1) {
      if (Atomics.wait(header, H.LAYOUT_SEQ, seq, waitMs) === 'timed-out') throw timedOut();
      continue;
    }
    let value: T;
    try {
      value = read();
    } catch (error) {
      if (Atomics.load(header, H.LAYOUT_SEQ) === seq) throw error;
      continue;
    }
    if (Atomics.load(header, H.LAYOUT_SEQ) === seq) return value;
  }
}

/** Plain data that gives any thread the shared memory of a namespace (SharedArrayBuffers are shared, not copied, by postMessage). */
export interface SharedHandles {
  readonly header: SharedArrayBuffer;
  readonly vectors: SharedArrayBuffer;
  readonly records: SharedArrayBuffer;
  readonly offsets: SharedArrayBuffer;
  readonly deleted: SharedArrayBuffer;
}

/** Sizes of a namespace's shared memory. */
export interface SharedLimits {
  readonly dimensions: number;
  /** Entries the namespace can ever hold (slots, deleted ones included, until it is compacted). */
  readonly maxEntries: number;
  /** Bytes of ids and metadata the namespace can hold. */
  readonly maxRecordBytes: number;
}

/** Slots the growable parts have room for at first; they double as the owner writes. */
const INITIAL_SLOTS = 1_024;

/**
 * Allocates the shared memory of a new namespace. The growable parts reserve address space for
 * their maximum and use memory only as they grow.
 */
export function createShared(limits: SharedLimits): SharedHandles {
  for (const [field, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(field, 'must be a positive integer');
  }
  const { dimensions, maxEntries, maxRecordBytes } = limits;
  const grow = (field: keyof SharedLimits, initial: number, max: number): SharedArrayBuffer => {
    try {
      return new SharedArrayBuffer(Math.min(initial, max), { maxByteLength: max });
    } catch (error) {
      // Node 20 caps a shared buffer at 4 GiB: the vectors of 2.8 million 384-d entries.
      if (error instanceof RangeError) throw new InvalidArgumentError(field, `needs a shared buffer of ${max} bytes, more than this Node allows (${error.message})`);
      throw error;
    }
  };
  const slots = Math.min(INITIAL_SLOTS, maxEntries);
  return {
    header: new SharedArrayBuffer(HEADER_INTS * 4),
    vectors: grow('maxEntries', slots * dimensions * 4, maxEntries * dimensions * 4),
    records: grow('maxRecordBytes', 1 << 20, maxRecordBytes),
    offsets: grow('maxEntries', slots * 16, maxEntries * 16),
    deleted: grow('maxEntries', slots, maxEntries),
  };
}

/** The most entries whose vectors fit the largest shared buffer Node 20 makes (4 GiB), at most 4 million. */
export function defaultMaxEntries(dimensions: number): number {
  return Math.min(4_000_000, Math.floor(2 ** 32 / (dimensions * 4)));
}

/**
 * Bytes before a record's strings: the id's UTF-8 length (u32), the origin's (u32, NULL_ORIGIN for
 * null), the write time (f64 epoch ms), all little-endian. Then the id, the origin, and the metadata
 * as JSON, to the record's end.
 */
export const RECORD_HEADER = 16;
/** The origin length that means "no origin" (null). */
export const NULL_ORIGIN = 0xffff_ffff;
/** The metadata of most entries, `{}`: decoded without JSON.parse. */
const EMPTY_METADATA_BYTES = 2;

/** Floats in a 64-byte cache line. */
const LINE_FLOATS = 16;

/**
 * Where loads made only to bring cache lines in are summed: a write to module state, which no
 * optimiser may drop, so neither may it drop the loads.
 */
let sink = 0;

/** What an entry carries besides its vector. */
export interface EntryRecord {
  readonly id: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Who wrote it (an actor path, a worker id), if the writer said. */
  readonly origin: string | null;
  /** Epoch ms of the write. */
  readonly at: number;
}

/**
 * Typed views over a namespace's shared memory, made once per thread. The views of the growable
 * parts have a fixed length and are made again when the owner has grown the buffers (`cover`):
 * length-tracking views read ~17x slower on Node 20 (measured on a 384-d scan).
 */
export class SharedViews {
  readonly header: Int32Array;
  vectors: Float32Array;
  offsets: Float64Array;
  deleted: Uint8Array;
  /** Slots the current views reach. */
  #slots = 0;

  constructor(
    readonly handles: SharedHandles,
    readonly dimensions: number,
  ) {
    this.header = new Int32Array(handles.header);
    [this.vectors, this.offsets, this.deleted] = this.#remap();
  }

  /** Makes the views reach slot `slots - 1` (the buffers already do: the owner grows them first). */
  cover(slots: number): void {
    if (slots > this.#slots) [this.vectors, this.offsets, this.deleted] = this.#remap();
  }

  #remap(): [Float32Array, Float64Array, Uint8Array] {
    const { vectors, offsets, deleted } = this.handles;
    this.#slots = Math.min(offsets.byteLength / 16, deleted.byteLength, vectors.byteLength / 4 / this.dimensions);
    return [new Float32Array(vectors, 0, this.#slots * this.dimensions), new Float64Array(offsets, 0, this.#slots * 2), new Uint8Array(deleted, 0, this.#slots)];
  }

  committed(): number {
    return Atomics.load(this.header, H.COMMITTED);
  }

  /** The published snapshot version and the slots it covers, read consistently. */
  snapshot(): { version: number; covered: number } {
    for (;;) {
      const version = Atomics.load(this.header, H.VERSION);
      const covered = Atomics.load(this.header, version % 2 === 0 ? H.COVERED_EVEN : H.COVERED_ODD);
      if (Atomics.load(this.header, H.VERSION) === version) return { version, covered };
    }
  }

  isDeleted(slot: number): boolean {
    this.cover(slot + 1);
    return Atomics.load(this.deleted, slot) !== 0;
  }

  /** Where the vector of `slot` starts in `vectors`. */
  row(slot: number): number {
    return slot * this.dimensions;
  }

  /**
   * Brings the vectors and record offsets of `slots` (committed, within the views) into the CPU
   * caches. Slots picked by an index search lie anywhere in shared memory and are cold: a dot product
   * waits on its row's misses one after another (~3 us a 384-d row, measured), while these loads,
   * one float of every cache line, line by line across all the rows, are independent, so their misses
   * overlap (~1 us a row with this first).
   */
  prefetch(slots: readonly number[]): void {
    const { vectors, offsets, dimensions } = this;
    let sum = 0;
    for (const slot of slots) sum += offsets[slot * 2]!;
    for (let i = 0; i < dimensions; i += LINE_FLOATS) {
      for (const slot of slots) sum += vectors[slot * dimensions + i]!;
    }
    sink += sum;
  }

  /**
   * Decodes the records of several committed slots, the first byte of each read for all of them
   * before any is decoded, so that their cache misses overlap (10 random hits: ~22 us decoded one by
   * one, measured).
   */
  records(slots: readonly number[]): EntryRecord[] {
    let max = 0;
    for (const slot of slots) max = Math.max(max, slot);
    this.cover(max + 1);
    let end = 0;
    for (const slot of slots) end = Math.max(end, this.offsets[slot * 2]! + this.offsets[slot * 2 + 1]!);
    const bytes = this.recordBytes(end);
    let sum = 0;
    for (const slot of slots) sum += bytes[this.offsets[slot * 2]!]!;
    sink += sum;
    return slots.map((slot) => this.record(slot));
  }

  /** Decodes the record of a committed slot. */
  record(slot: number): EntryRecord {
    this.cover(slot + 1);
    const offset = this.offsets[slot * 2]!;
    const end = offset + this.offsets[slot * 2 + 1]!;
    const bytes = this.recordBytes(end);
    const idEnd = offset + RECORD_HEADER + bytes.readUInt32LE(offset);
    const originLength = bytes.readUInt32LE(offset + 4);
    const originEnd = originLength === NULL_ORIGIN ? idEnd : idEnd + originLength;
    return {
      id: bytes.toString('utf8', offset + RECORD_HEADER, idEnd),
      metadata: end - originEnd === EMPTY_METADATA_BYTES ? {} : (JSON.parse(bytes.toString('utf8', originEnd, end)) as Record<string, unknown>),
      origin: originLength === NULL_ORIGIN ? null : bytes.toString('utf8', idEnd, originEnd),
      at: bytes.readDoubleLE(offset + 8),
    };
  }

  /**
   * One Buffer over the whole records buffer, made again only when `end` lies past it (the owner
   * grew the buffer): a Buffer per record cost more than decoding the record. Buffer reads shared
   * memory without copying; TextDecoder refuses shared views.
   */
  protected recordBytes(end: number): Buffer {
    if (end > this.#recordBytes.length) this.#recordBytes = Buffer.from(this.handles.records);
    return this.#recordBytes;
  }

  #recordBytes: Buffer = Buffer.alloc(0);
}
