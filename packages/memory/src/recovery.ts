import { snapshotPath } from './config.js';
import { H, setLayoutCounts } from './shared-state.js';
import { Persistence } from './persistence.js';
import { chunksWithRoom, indexInSlices, markDeleted, publishSnapshot, type OwnerState } from './owner-state.js';
import { yieldToLoop } from './indexing.js';

/*
 * How a starting owner takes back what its namespace holds: from shared memory after a failure of
 * its actor or thread, or from the persistence directory at first start.
 */

/**
 * Slots a recovery goes through between two turns of the event loop: a start that took seconds in
 * one turn would answer no heartbeat, and the runtime declares a thread dead after 5 s without one.
 */
const RECOVERY_SLICE = 65_536;

/** After a crash: the last snapshot is the index; the shared tail adds what came after it. */
export async function recoverFromShared(state: OwnerState): Promise<void> {
  const { writer, config } = state;
  // The move of a compaction runs in one synchronous turn and allocates nothing, so only the death
  // of the thread at that very moment leaves it half done: the slots are then not what any index says.
  if (Atomics.load(writer.header, H.LAYOUT_SEQ) % 2 === 1) throw new Error('the previous owner stopped in the middle of compacting the shared memory');
  const { version, covered } = writer.snapshot();
  if (version > 0) {
    state.index.load(snapshotPath(config, version));
    state.indexed = covered;
    for (let slot = 0; slot < covered; slot++) {
      if (writer.isDeleted(slot) && state.index.contains(BigInt(slot))) state.index.remove(BigInt(slot));
      if (slot % RECOVERY_SLICE === RECOVERY_SLICE - 1) await yieldToLoop();
    }
  }
  await mapIds(state);
}

/** Fills the owner's id -> slot map from the live slots. */
async function mapIds(state: OwnerState): Promise<void> {
  const { writer } = state;
  const end = writer.committed();
  for (let from = 0; from < end; from += RECOVERY_SLICE) {
    for (let slot = from; slot < Math.min(end, from + RECOVERY_SLICE); slot++) if (!writer.isDeleted(slot)) state.ids.set(writer.record(slot).id, slot);
    await yieldToLoop();
  }
}

/** At first start with a persistence directory: the checkpoint, then the write log after it. */
export async function restoreFromDisk(state: OwnerState): Promise<void> {
  const { writer, config } = state;
  const persisted = await Persistence.read(config.persistDir!, config.dimensions);
  if (persisted.records.length === 0 && persisted.log.length === 0) return;
  const restored = persisted.records.length;
  const { dimensions } = config;
  for (let from = 0; from < restored; from += RECOVERY_SLICE) {
    const part = persisted.records.slice(from, from + RECOVERY_SLICE);
    writer.append(config.name, part.map((r, j) => ({ vector: persisted.vectors.subarray((from + j) * dimensions, (from + j + 1) * dimensions), record: r.record })));
    await yieldToLoop();
  }
  persisted.records.forEach((r, slot) => r.deleted && writer.delete(slot));
  // The counts at the checkpoint (the appends and deletes above counted its records as new); what
  // the log replays below adds to them. A directory of the older layout has none: all of it is new.
  if (persisted.layout !== null) setLayoutCounts(writer.header, persisted.layout);
  if (persisted.indexPath !== null) state.index.load(persisted.indexPath);
  state.indexed = persisted.covered;
  // Slots between the index and the records (a directory of the layout before, cut mid-checkpoint)
  // go into the index from their rows.
  await indexInSlices(state);
  if (state.indexed > 0) publishSnapshot(state, 'restored');
  const later = persisted.log.filter((l): l is Extract<typeof l, { op: 'add' }> => l.op === 'add' && l.slot >= restored);
  for await (const part of chunksWithRoom(state, later)) writer.append(config.name, part);
  const deletes = persisted.log.filter((l) => l.op === 'del').map((l) => l.slot);
  markDeleted(state, deletes.filter((slot) => slot < writer.committed()));
  await mapIds(state);
}
