import { H, NULL_ORIGIN, RECORD_HEADER, SharedViews, type EntryRecord } from './shared-state.js';
import { MemoryCapacityError } from './errors.js';

/**
 * The owner's side of the shared memory: appends entries and marks deletions. Only the namespace's
 * owner actor makes one; every write is complete before the `committed` count that reveals it.
 */
export class SharedWriter extends SharedViews {
  /**
   * Appends entries (vectors already normalised) and publishes them all at once. A restored entry
   * comes with the vector it had; every slot has one. `metadataJson`, when the caller has it
   * already (from {@link checkRoom}), is the record's metadata as JSON.
   */
  append(namespace: string, entries: readonly { vector: Float32Array; record: EntryRecord; metadataJson?: string }[]): number[] {
    let slot = this.committed();
    let bytes = Atomics.load(this.header, H.RECORD_BYTES);
    const slots: number[] = [];
    for (const { vector, record, metadataJson } of entries) {
      const length = this.#writeRecord(namespace, slot, bytes, record, metadataJson ?? JSON.stringify(record.metadata));
      this.offsets[slot * 2] = bytes;
      this.offsets[slot * 2 + 1] = length;
      this.vectors.set(vector, this.row(slot));
      Atomics.store(this.deleted, slot, 0);
      bytes += length;
      slots.push(slot++);
    }
    Atomics.store(this.header, H.RECORD_BYTES, bytes);
    Atomics.add(this.header, H.LIVE, entries.length);
    // Counted where it is written, once: an owner that restarts after a crash indexes the tail
    // again, and counting at indexing counted it twice.
    Atomics.add(this.header, H.INSERTED_SINCE_LAYOUT, entries.length);
    Atomics.store(this.header, H.COMMITTED, slot); // publishes everything above
    return slots;
  }

  /**
   * Throws MemoryCapacityError unless `entries` fit as new entries, so that a batch that cannot
   * be written whole is refused with nothing written (nothing logged, nothing visible).
   */
  checkRoom(namespace: string, entries: readonly { record: EntryRecord; metadataJson: string }[]): void {
    const { records, deleted } = this.handles;
    if (this.committed() + entries.length > deleted.maxByteLength) throw new MemoryCapacityError(namespace, 'entries', deleted.maxByteLength);
    let bytes = Atomics.load(this.header, H.RECORD_BYTES);
    for (const { record, metadataJson } of entries) bytes += recordLength(record, metadataJson);
    if (bytes > records.maxByteLength) throw new MemoryCapacityError(namespace, 'metadata bytes', records.maxByteLength);
  }

  /** Marks a slot deleted; true if it was live. */
  delete(slot: number): boolean {
    if (Atomics.compareExchange(this.deleted, slot, 0, 1) !== 0) return false;
    Atomics.sub(this.header, H.LIVE, 1);
    Atomics.add(this.header, H.REMOVED_SINCE_LAYOUT, 1); // like insertions: once, where it happens
    return true;
  }

  /**
   * Moves slot `s` to `newSlot(s)` (-1: drops it) for every slot below `committed`, in place, and
   * sets the counts that follow. `newSlot` keeps the order and never moves a slot up, so a slot is
   * moved before anything lands on it. Records move down with their slots (they lie in slot order).
   * Only the owner calls it, with readers held off (LAYOUT_SEQ odd: see compaction.ts).
   */
  moveSlots(committed: number, newSlot: (slot: number) => number): void {
    const { dimensions } = this;
    const bytes = this.recordBytes(Atomics.load(this.header, H.RECORD_BYTES));
    let kept = 0;
    let cursor = 0;
    for (let slot = 0; slot < committed; slot++) {
      const to = newSlot(slot);
      if (to < 0) continue;
      const offset = this.offsets[slot * 2]!;
      const length = this.offsets[slot * 2 + 1]!;
      if (offset !== cursor) bytes.copyWithin(cursor, offset, offset + length);
      if (to !== slot) {
        this.vectors.copyWithin(to * dimensions, slot * dimensions, (slot + 1) * dimensions);
        this.deleted[to] = this.deleted[slot]!;
      }
      this.offsets[to * 2] = cursor;
      this.offsets[to * 2 + 1] = length;
      cursor += length;
      kept = to + 1;
    }
    this.deleted.fill(0, kept, committed);
    Atomics.store(this.header, H.RECORD_BYTES, cursor);
    Atomics.store(this.header, H.COMMITTED, kept);
  }

  /** Publishes snapshot `version`, which holds every slot below `covered`. */
  publish(version: number, covered: number): void {
    Atomics.store(this.header, version % 2 === 0 ? H.COVERED_EVEN : H.COVERED_ODD, covered);
    Atomics.store(this.header, H.VERSION, version);
  }

  /** Writes `record` (its metadata as the JSON `metadata`) at byte `at` of the records (laid out as RECORD_HEADER says); returns its length. */
  #writeRecord(namespace: string, slot: number, at: number, record: EntryRecord, metadata: string): number {
    const idLength = Buffer.byteLength(record.id, 'utf8');
    const originLength = record.origin === null ? 0 : Buffer.byteLength(record.origin, 'utf8');
    const length = recordLength(record, metadata);
    this.#ensure(namespace, slot, at + length);
    const bytes = this.recordBytes(at + length);
    bytes.writeUInt32LE(idLength, at);
    bytes.writeUInt32LE(record.origin === null ? NULL_ORIGIN : originLength, at + 4);
    bytes.writeDoubleLE(record.at, at + 8);
    let next = at + RECORD_HEADER;
    next += bytes.write(record.id, next, 'utf8');
    if (record.origin !== null) next += bytes.write(record.origin, next, 'utf8');
    bytes.write(metadata, next, 'utf8');
    return length;
  }

  /** Grows the shared buffers (slots by doubling) so that `slot` and `recordBytes` fit, and the views with them. */
  #ensure(namespace: string, slot: number, recordBytes: number): void {
    const { vectors, records, offsets, deleted } = this.handles;
    if ((slot + 1) * 16 > offsets.byteLength) {
      const max = offsets.maxByteLength / 16;
      if (slot + 1 > max) throw new MemoryCapacityError(namespace, 'entries', max);
      const slots = Math.min(max, Math.max(slot + 1, (offsets.byteLength / 16) * 2));
      vectors.grow(slots * this.dimensions * 4);
      offsets.grow(slots * 16);
      deleted.grow(slots);
    }
    if (recordBytes > records.byteLength) {
      if (recordBytes > records.maxByteLength) throw new MemoryCapacityError(namespace, 'metadata bytes', records.maxByteLength);
      records.grow(Math.min(records.maxByteLength, Math.max(recordBytes, records.byteLength * 2)));
    }
    this.cover(slot + 1);
  }
}

/** Bytes `record` takes in the shared records (laid out as RECORD_HEADER says), its metadata as JSON. */
function recordLength(record: EntryRecord, metadata: string): number {
  return RECORD_HEADER + Buffer.byteLength(record.id, 'utf8') + (record.origin === null ? 0 : Buffer.byteLength(record.origin, 'utf8')) + Buffer.byteLength(metadata, 'utf8');
}
