import { existsSync, renameSync, unlinkSync } from 'node:fs';
import type { ActorContext, DeferredReply } from '@apiary/runtime';
import { H, setLayoutCounts } from './shared-state.js';
import type { SharedWriter } from './writer.js';
import type { RowPrefaulter } from './prefault.js';
import type { NamespaceReader } from './reader.js';
import { snapshotPath, type NamespaceConfig } from './config.js';
import type { Persistence } from './persistence.js';
import { MemoryStorageError } from './errors.js';
import type { LayoutRebuild, OptimizeReport, OptimizeTrigger } from './layout.js';
import type { SnapshotTrigger } from './events.js';
import type { OwnerMessage } from './owner.js';
import type { FencedIndex } from './native-index.js';
import { addSlots, INDEX_SLICE, liveSlots, yieldToLoop } from './indexing.js';

/*
 * How a namespace's owner keeps its index and the published snapshots up to date with the writes in
 * shared memory (its message handlers are in owner.ts, its optimize in owner-optimize.ts, its start in recovery.ts).
 */

/** A namespace owner's state (one per incarnation of the owner actor). */
export interface OwnerState {
  readonly config: NamespaceConfig;
  readonly writer: SharedWriter;
  readonly reader: NamespaceReader;
  readonly ids: Map<string, number>;
  readonly persistence: Persistence | null;
  index: FencedIndex;
  /** Slots below this are in `index`. */
  indexed: number;
  flushQueued: boolean;
  /** A `snapshot-due` message is in the owner's mailbox. */
  snapshotQueued: boolean;
  lastSnapshot: number;
  /** How long the last snapshot took to write (ms): snapshots of a big index are spaced by it. */
  lastSnapshotMs: number;
  /**
   * True while the index is the one the last snapshot saved: a forced snapshot then has nothing to
   * publish (a bulk load's last policy snapshot often covers everything already) and skips the save.
   */
  published: boolean;
  timer: ReturnType<typeof setInterval> | null;
  /** Touches the rows of the next writes while the thread is idle. */
  readonly prefaulter: RowPrefaulter;
  /** The owner's actor context: where its events go, and how it runs calls that hold the thread. */
  readonly ctx: Pick<ActorContext<OwnerMessage>, 'publish' | 'wants' | 'blocking' | 'nativeCall'>;
  /** The optimize under way, who started it, and the asks waiting for it. */
  rebuild: { readonly job: LayoutRebuild; readonly trigger: OptimizeTrigger; readonly waiters: DeferredReply<OptimizeReport>[] } | null;
  /** Epoch ms of the last write, or of the end of the owner's indexing of writes: when quiet time starts (see auto-optimize.ts). */
  lastWriteAt: number;
}

/** Entries committed but not in the published snapshot. */
const tailOf = (writer: SharedWriter): number => writer.committed() - writer.snapshot().covered;

/**
 * Cuts entries to write into chunks of half the tail capacity, each to be appended (and visible to
 * readers) before the next is taken. A chunk that would take the tail past its capacity comes after
 * a forced snapshot, which bounds what searches scan by brute force; the thread's event loop runs
 * between chunks, so that a huge batch cannot starve the heartbeat that says the thread is alive.
 */
export async function* chunksWithRoom<T>(state: OwnerState, entries: readonly T[]): AsyncGenerator<readonly T[]> {
  const { tailCapacity } = state.config;
  const chunk = Math.max(1, Math.floor(tailCapacity / 2));
  for (let from = 0; from < entries.length; from += chunk) {
    const part = entries.slice(from, from + chunk);
    if (from > 0) await yieldToLoop();
    if (tailOf(state.writer) + part.length > tailCapacity) await snapshotForced(state);
    yield part;
  }
}

export function markDeleted(state: OwnerState, slots: readonly number[]): void {
  for (const slot of slots) {
    state.writer.delete(slot);
    if (slot < state.indexed) {
      state.index.remove(BigInt(slot));
      state.published = false;
    }
  }
}

/** Counts the index as it is now as laid out: after a rebuild, or one that failed or could not start (no retry until it changes again). */
export function resetLayout(state: OwnerState, laidOut: number): void {
  setLayoutCounts(state.writer.header, { laidOut, insertedSince: 0, removedSince: 0 });
}

/** Indexes everything pending, a slice at a time, letting the thread's event loop run between slices. */
export async function indexInSlices(state: OwnerState): Promise<void> {
  while (state.indexed < state.writer.committed()) {
    indexPending(state, INDEX_SLICE);
    await yieldToLoop();
  }
}

/** Adds committed slots not yet in the index (at most `limit` of them) in one batch. */
export function indexPending(state: OwnerState, limit = Number.POSITIVE_INFINITY): void {
  const end = Math.min(state.writer.committed(), state.indexed + limit);
  if (state.indexed >= end) return;
  const slots = liveSlots(state.writer, state.indexed, end);
  addSlots(state.index, state.writer, slots);
  state.indexed = end;
  state.published = false;
}

/**
 * Indexes what is pending (when the namespace is past its index threshold); true when the policy
 * says a snapshot is due. The owner does not save it here but queues it behind the messages already
 * in its mailbox (see `snapshot-due` in owner.ts), so that writes waiting there go into the same
 * snapshot: during a bulk load, a snapshot between a call's two messages was saved again at once
 * (the index had changed), a third of the saves of a 100,000 load.
 */
export async function flush(state: OwnerState): Promise<boolean> {
  const { config, writer } = state;
  const { covered } = writer.snapshot();
  const pending = writer.committed() - covered;
  if (pending === 0 || (covered === 0 && Atomics.load(writer.header, H.LIVE) < config.indexThreshold)) return false;
  await indexInSlices(state);
  return snapshotDue(state);
}

/** Whether the policy says a snapshot is due now (writes not in the published one, and the duty allows). */
export function snapshotDue(state: OwnerState): boolean {
  const { config, writer } = state;
  const pending = writer.committed() - writer.snapshot().covered;
  if (pending === 0) return false;
  const sinceLast = Date.now() - state.lastSnapshot;
  const due = pending >= config.snapshotEveryWrites || sinceLast >= config.snapshotEveryMs;
  // Writing a snapshot costs time in proportion to the whole index (~0.1 s at 100,000 x 384), so a
  // fixed write count between snapshots would make a bulk load quadratic. Keep snapshot writing
  // under SNAPSHOT_DUTY of the owner's time: the tail, searched by brute force, grows meanwhile, up
  // to its capacity, which forces a snapshot whatever the duty.
  return due && sinceLast * SNAPSHOT_DUTY >= state.lastSnapshotMs * (1 - SNAPSHOT_DUTY);
}

/** Indexes everything pending and publishes a snapshot now: the tail is full. */
async function snapshotForced(state: OwnerState): Promise<void> {
  await indexInSlices(state);
  publishSnapshot(state, 'tail-full');
}

/** The share of the owner's time that writing snapshots may take when writes keep coming. */
const SNAPSHOT_DUTY = 0.1;

/** Saves the index to a new snapshot file (temp file, then rename) and publishes it, if it changed. */
export function publishSnapshot(state: OwnerState, trigger: SnapshotTrigger): void {
  const { writer } = state;
  const { version } = writer.snapshot();
  if (state.published && version > 0) return;
  const started = Date.now();
  saveSnapshot(state, state.index, version + 1);
  writer.publish(version + 1, state.indexed);
  announceSnapshot(state, version, started, trigger);
}

/** Writes `index` as the file of snapshot `version`, not yet published (temp file, then rename). */
export function saveSnapshot(state: OwnerState, index: FencedIndex, version: number): void {
  const path = snapshotPath(state.config, version);
  try {
    index.save(`${path}.tmp`);
    // Never rewrite a file a reader may have mapped (SIGBUS): a new name, then rename into place.
    renameSync(`${path}.tmp`, path);
  } catch (error) {
    throw new MemoryStorageError(state.config.name, 'snapshot', error);
  }
}

/** After a snapshot newer than `previous` was published: the owner's bookkeeping, the event, the old file's removal. */
export function announceSnapshot(state: OwnerState, previous: number, started: number, trigger: SnapshotTrigger): void {
  const { config } = state;
  state.lastSnapshot = Date.now();
  state.lastSnapshotMs = state.lastSnapshot - started;
  state.published = true;
  if (state.ctx.wants('memory-snapshot')) {
    state.ctx.publish({ type: 'memory-snapshot', time: state.lastSnapshot, namespace: config.name, version: previous + 1, covered: state.indexed, ms: state.lastSnapshotMs, trigger });
  }
  // Readers that mapped the old file keep their mapping; unlinking only drops the name.
  const old = snapshotPath(config, previous);
  if (previous > 0 && existsSync(old)) unlinkSync(old);
}
