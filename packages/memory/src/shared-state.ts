/**
 * The memory of one namespace that every thread shares, in SharedArrayBuffers:
 *
 * - `header` (Int32): counters, published with Atomics so a reader that sees a count sees the data.
 * - `ring` (Float32): the vectors of the newest entries, slot `s` at row `s % ringSlots`. Entries
 *   not yet in a published index snapshot live only here; readers brute-force them.
 * - `records` (growable bytes) and `offsets` (growable Float64 pairs): each entry's id, metadata,
 *   origin and time, for every slot ever written (index hits need them too), laid out as
 *   {@link RECORD_HEADER} below says: a search decodes ten of them or more, so id, origin and time
 *   are read straight from the bytes, and only the metadata is JSON.
 * - `deleted` (growable Uint8): one byte per slot, set when the entry is deleted or replaced.
 *
 * One writer (the namespace's owner actor) appends; every other thread only reads. A slot becomes
 * visible when the owner stores the new `committed` count, after everything of the slot is written.
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
} as const;
const HEADER_INTS = 16;

/** Plain data that gives any thread the shared memory of a namespace (SharedArrayBuffers are shared, not copied, by postMessage). */
export interface SharedHandles {
  readonly header: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  readonly records: SharedArrayBuffer;
  readonly offsets: SharedArrayBuffer;
  readonly deleted: SharedArrayBuffer;
}

/** Sizes of a namespace's shared memory. */
export interface SharedLimits {
  readonly dimensions: number;
  /** Vectors the write tail holds before a snapshot must take them over. */
  readonly ringSlots: number;
  /** Entries the namespace can ever hold (slots, deleted ones included, until it is compacted). */
  readonly maxEntries: number;
  /** Bytes of ids and metadata the namespace can hold. */
  readonly maxRecordBytes: number;
}

/** Allocates the shared memory of a new namespace (address space for the growable parts is only reserved). */
export function createShared(limits: SharedLimits): SharedHandles {
  for (const [field, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(field, 'must be a positive integer');
  }
  const grow = (initial: number, max: number) => new SharedArrayBuffer(Math.min(initial, max), { maxByteLength: max });
  return {
    header: new SharedArrayBuffer(HEADER_INTS * 4),
    ring: new SharedArrayBuffer(limits.ringSlots * limits.dimensions * 4),
    records: grow(1 << 20, limits.maxRecordBytes),
    offsets: grow(16_384 * 16, limits.maxEntries * 16),
    deleted: grow(16_384, limits.maxEntries),
  };
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

/** What an entry carries besides its vector. */
export interface EntryRecord {
  readonly id: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Who wrote it (an actor path, a worker id), if the writer said. */
  readonly origin: string | null;
  /** Epoch ms of the write. */
  readonly at: number;
}

/** Typed views over a namespace's shared memory, made once per thread. */
export class SharedViews {
  readonly header: Int32Array;
  readonly ring: Float32Array;
  readonly records: Uint8Array;
  readonly offsets: Float64Array;
  readonly deleted: Uint8Array;
  readonly ringSlots: number;

  constructor(
    readonly handles: SharedHandles,
    readonly dimensions: number,
  ) {
    this.header = new Int32Array(handles.header);
    this.ring = new Float32Array(handles.ring);
    // Length-tracking views: they follow the growable buffers as the owner grows them.
    this.records = new Uint8Array(handles.records);
    this.offsets = new Float64Array(handles.offsets);
    this.deleted = new Uint8Array(handles.deleted);
    this.ringSlots = handles.ring.byteLength / 4 / dimensions;
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
    return Atomics.load(this.deleted, slot) !== 0;
  }

  /** The row of `slot` in the ring (valid only while the ring still holds it; see Reader). */
  ringRow(slot: number): number {
    return (slot % this.ringSlots) * this.dimensions;
  }

  /** Decodes the record of a committed slot. */
  record(slot: number): EntryRecord {
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
