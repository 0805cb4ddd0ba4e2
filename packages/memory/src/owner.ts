import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { Index } from 'usearch';
import { defineBehavior, ErrorReply, InvalidArgumentError, toError, type DeferredReply } from '@apiary/runtime';
import { H, type EntryRecord } from './shared-state.js';
import { SharedWriter } from './writer.js';
import { NamespaceReader, type MemoryHit } from './reader.js';
import { indexOptions, snapshotPath, type NamespaceConfig } from './config.js';
import { Persistence } from './persistence.js';
import { checkedEntry, type VectorInput } from './vectors.js';
import { checkEntryFields, type MemoryEntry } from './entry.js';
import { validateFilter, type MetadataFilter } from './filter.js';
import { MemoryStorageError, OptimizeError } from './errors.js';
import { LayoutRebuild, type OptimizeReport } from './layout.js';
import { addSlots, INDEX_SLICE, liveSlots, yieldToLoop } from './indexing.js';

/** What the owner of a namespace understands. */
export type OwnerMessage =
  | { readonly type: 'add'; readonly entries: readonly MemoryEntry[] }
  | { readonly type: 'delete'; readonly ids: readonly string[] }
  | { readonly type: 'get'; readonly ids: readonly string[] }
  | { readonly type: 'search'; readonly vector: VectorInput; readonly k: number; readonly filter?: MetadataFilter }
  | { readonly type: 'snapshot' }
  /** Rebuilds the index in a layout that searches faster; answered with an OptimizeReport once readers have it. */
  | { readonly type: 'optimize' }
  /** @internal The owner's own: the next slice of a running optimize. */
  | { readonly type: 'optimize-step' }
  | { readonly type: 'stats' }
  | { readonly type: 'flush' };

/** A namespace's figures. */
export interface MemoryStats {
  readonly namespace: string;
  /** Entries that can be found. */
  readonly live: number;
  /** Slots written (deleted and replaced entries included). */
  readonly written: number;
  /** The published snapshot (0: none yet) and how many slots it covers. */
  readonly snapshotVersion: number;
  readonly snapshotCovered: number;
  /** Entries only in the shared tail (searched by brute force until the next snapshot). */
  readonly tail: number;
  /** Times the owner started (1 + restarts). */
  readonly incarnation: number;
  /** Whether an `optimize()` is under way. */
  readonly optimizing: boolean;
}

interface OwnerState {
  readonly config: NamespaceConfig;
  readonly writer: SharedWriter;
  readonly reader: NamespaceReader;
  readonly ids: Map<string, number>;
  readonly persistence: Persistence | null;
  index: Index;
  /** Slots below this are in `index`. */
  indexed: number;
  flushQueued: boolean;
  lastSnapshot: number;
  /** How long the last snapshot took to write (ms): snapshots of a big index are spaced by it. */
  lastSnapshotMs: number;
  /**
   * True while the index is the one the last snapshot saved: a forced snapshot then has nothing to
   * publish (a bulk load's last policy snapshot often covers everything already) and skips the save.
   */
  published: boolean;
  timer: ReturnType<typeof setInterval> | null;
  /** The optimize under way, and the asks waiting for it. */
  rebuild: { readonly job: LayoutRebuild; readonly waiters: DeferredReply<OptimizeReport>[] } | null;
}

/**
 * The only writer of a namespace. Writes land in shared memory (visible to every thread at once: the
 * tail, until a snapshot covers them), then in its mutable USearch index; snapshots of that index are
 * published for the readers. After a crash it rebuilds from the last snapshot plus the tail: shared
 * memory holds every acknowledged write.
 */
export const memoryOwner = defineBehavior(import.meta.url, 'memoryOwner', {
  async setup(config: NamespaceConfig, ctx): Promise<OwnerState> {
    const writer = new SharedWriter(config.shared, config.dimensions);
    const state: OwnerState = {
      config,
      writer,
      reader: new NamespaceReader(config),
      ids: new Map(),
      persistence: null,
      index: new Index(indexOptions(config)),
      indexed: 0,
      flushQueued: false,
      lastSnapshot: Date.now(),
      lastSnapshotMs: 0,
      published: false,
      timer: null,
      rebuild: null,
    };
    try {
      const incarnation = Atomics.add(writer.header, H.INCARNATION, 1);
      if (incarnation === 0 && config.persistDir !== null) await restoreFromDisk(state);
      else if (incarnation > 0) recoverFromShared(state);
      if (config.persistDir !== null) {
        const persistence = new Persistence(config.persistDir, false);
        (state as { persistence: Persistence | null }).persistence = persistence;
        // Start the log afresh from what is committed (after a crash it may hold a write that never was).
        indexPending(state);
        persistence.checkpoint(state.index, writer, state.indexed);
      }
    } catch (error) {
      throw new MemoryStorageError(config.name, 'recovery', error);
    }
    state.timer = setInterval(() => ctx.tell(ctx.self, { type: 'flush' }), Math.max(10, config.snapshotEveryMs));
    return state;
  },

  async receive(state, message: OwnerMessage, ctx): Promise<unknown> {
    try {
      switch (message.type) {
        case 'add':
          return await add(state, message.entries, () => ctx.tell(ctx.self, { type: 'flush' }));
        case 'delete':
          return remove(state, message.ids);
        case 'get': {
          if (!Array.isArray(message.ids) || !message.ids.every((id) => typeof id === 'string')) throw new InvalidArgumentError('ids', 'must be an array of strings');
          return message.ids.map((id) => {
            const slot = state.ids.get(id);
            return slot === undefined ? null : state.writer.record(slot);
          }) satisfies (EntryRecord | null)[];
        }
        case 'search': {
          if (!Number.isInteger(message.k) || message.k < 1) throw new InvalidArgumentError('k', 'must be an integer >= 1');
          return state.reader.search(message.vector, message.k, validateFilter(message.filter)) satisfies MemoryHit[];
        }
        case 'snapshot':
          await indexInSlices(state);
          publishSnapshot(state);
          return stats(state);
        case 'stats':
          return stats(state);
        case 'optimize': {
          const reply = ctx.deferReply<OptimizeReport>();
          if (state.rebuild === null) {
            // Everything written so far goes into the old index first: the rebuild starts from it.
            await indexInSlices(state);
            state.rebuild = { job: new LayoutRebuild(state.config, state.writer, state.indexed), waiters: [] };
            ctx.tell(ctx.self, { type: 'optimize-step' });
          }
          state.rebuild.waiters.push(reply);
          return reply;
        }
        case 'optimize-step':
          // Each slice is a message of its own: writes and searches at the owner go on in between,
          // and the event loop turns first (a mailbox drains without it: the heartbeat would starve).
          if (state.rebuild !== null && !optimizeStep(state)) {
            await yieldToLoop();
            ctx.tell(ctx.self, { type: 'optimize-step' });
          }
          return undefined;
        case 'flush':
          state.flushQueued = false;
          await flush(state, false);
          return undefined;
        default: {
          const never: never = message;
          throw new InvalidArgumentError('message', `unknown memory message ${JSON.stringify(never)}`);
        }
      }
    } catch (error) {
      // Bad input is the asker's problem: answer with the error, keep the namespace running.
      return new ErrorReply(toError(error));
    }
  },

  preRestart(state) {
    // A restarted owner starts a new timer and reopens the log: this incarnation lets go of its own.
    if (state.timer !== null) clearInterval(state.timer);
    abandonRebuild(state, 'the owner restarted');
    state.persistence?.close();
    state.reader.close();
  },

  postStop(state) {
    if (state.timer !== null) clearInterval(state.timer);
    abandonRebuild(state, 'the owner stopped');
    if (state.persistence !== null) {
      indexPending(state);
      state.persistence.checkpoint(state.index, state.writer, state.indexed);
      state.persistence.close();
    }
    state.reader.close();
  },
});

async function add(state: OwnerState, entries: readonly MemoryEntry[], queueFlush: () => void): Promise<{ readonly written: number }> {
  if (!Array.isArray(entries) || entries.length === 0) throw new InvalidArgumentError('entries', 'must be a non-empty array');
  const { name, dimensions } = state.config;
  const now = Date.now();
  // Validate all before writing any: a batch is written whole or not at all.
  const prepared = entries.map((e, i) => {
    checkEntryFields(e, i);
    const record: EntryRecord = { id: e.id, metadata: e.metadata ?? {}, origin: e.origin ?? null, at: now };
    return { vector: checkedEntry(name, dimensions, e.vector, i), record };
  });
  for await (const part of chunksWithRoom(state, prepared)) {
    const first = state.writer.committed();
    state.persistence?.logAdds(part.map((p, i) => ({ slot: first + i, record: p.record, vector: p.vector })));
    const slots = state.writer.append(name, part);
    const replaced: number[] = [];
    part.forEach((p, i) => {
      const previous = state.ids.get(p.record.id);
      if (previous !== undefined) replaced.push(previous);
      state.ids.set(p.record.id, slots[i]!);
    });
    markDeleted(state, replaced);
  }
  if (!state.flushQueued) {
    state.flushQueued = true;
    queueFlush();
  }
  return { written: prepared.length };
}

/** Entries committed but not in the published snapshot. */
const tailOf = (writer: SharedWriter): number => writer.committed() - writer.snapshot().covered;

/**
 * Cuts entries to write into chunks of half the tail capacity, each to be appended (and visible to
 * readers) before the next is taken. A chunk that would take the tail past its capacity comes after
 * a forced snapshot, which bounds what searches scan by brute force; the thread's event loop runs
 * between chunks, so that a huge batch cannot starve the heartbeat that says the thread is alive.
 */
async function* chunksWithRoom<T>(state: OwnerState, entries: readonly T[]): AsyncGenerator<readonly T[]> {
  const { tailCapacity } = state.config;
  const chunk = Math.max(1, Math.floor(tailCapacity / 2));
  for (let from = 0; from < entries.length; from += chunk) {
    const part = entries.slice(from, from + chunk);
    if (from > 0) await yieldToLoop();
    if (tailOf(state.writer) + part.length > tailCapacity) await flush(state, true);
    yield part;
  }
}

function remove(state: OwnerState, ids: readonly string[]): { readonly deleted: number } {
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new InvalidArgumentError('ids', 'must be an array of strings');
  const slots: number[] = [];
  for (const id of ids) {
    const slot = state.ids.get(id);
    if (slot === undefined) continue;
    state.ids.delete(id);
    slots.push(slot);
  }
  state.persistence?.logDeletes(slots);
  markDeleted(state, slots);
  return { deleted: slots.length };
}

function markDeleted(state: OwnerState, slots: readonly number[]): void {
  for (const slot of slots) {
    state.writer.delete(slot);
    if (slot < state.indexed) {
      state.index.remove(BigInt(slot));
      state.published = false;
    }
  }
}

/** Indexes everything pending, a slice at a time, letting the thread's event loop run between slices. */
async function indexInSlices(state: OwnerState): Promise<void> {
  while (state.indexed < state.writer.committed()) {
    indexPending(state, INDEX_SLICE);
    await yieldToLoop();
  }
}

/** Adds committed slots not yet in the index (at most `limit` of them) in one batch. */
function indexPending(state: OwnerState, limit = Number.POSITIVE_INFINITY): void {
  const end = Math.min(state.writer.committed(), state.indexed + limit);
  if (state.indexed >= end) return;
  addSlots(state.index, state.writer, liveSlots(state.writer, state.indexed, end));
  state.indexed = end;
  state.published = false;
}

/** Indexes and snapshots when the policy (or `force`, a full tail) says so. */
async function flush(state: OwnerState, force: boolean): Promise<void> {
  const { config, writer } = state;
  const committed = writer.committed();
  const { covered } = writer.snapshot();
  const pending = committed - covered;
  if (!force && (pending === 0 || (covered === 0 && Atomics.load(writer.header, H.LIVE) < config.indexThreshold))) return;
  await indexInSlices(state);
  if (force) return publishSnapshot(state);
  const sinceLast = Date.now() - state.lastSnapshot;
  const due = pending >= config.snapshotEveryWrites || sinceLast >= config.snapshotEveryMs;
  // Writing a snapshot costs time in proportion to the whole index (~0.1 s at 100,000 x 384), so a
  // fixed write count between snapshots would make a bulk load quadratic. Keep snapshot writing
  // under SNAPSHOT_DUTY of the owner's time: the tail, searched by brute force, grows meanwhile, up
  // to its capacity, which forces a snapshot whatever the duty.
  if (due && sinceLast * SNAPSHOT_DUTY >= state.lastSnapshotMs * (1 - SNAPSHOT_DUTY)) publishSnapshot(state);
}

/** The share of the owner's time that writing snapshots may take when writes keep coming. */
const SNAPSHOT_DUTY = 0.1;

/** Saves the index to a new snapshot file (temp file, then rename) and publishes it, if it changed. */
function publishSnapshot(state: OwnerState): void {
  const { config, writer } = state;
  const { version } = writer.snapshot();
  if (state.published && version > 0) return;
  const next = version + 1;
  const path = snapshotPath(config, next);
  const started = Date.now();
  try {
    state.index.save(`${path}.tmp`);
    // Never rewrite a file a reader may have mapped (SIGBUS): a new name, then rename into place.
    renameSync(`${path}.tmp`, path);
  } catch (error) {
    throw new MemoryStorageError(config.name, 'snapshot', error);
  }
  writer.publish(next, state.indexed);
  state.lastSnapshot = Date.now();
  state.lastSnapshotMs = state.lastSnapshot - started;
  state.published = true;
  // Readers that mapped the old file keep their mapping; unlinking only drops the name.
  const old = snapshotPath(config, version);
  if (version > 0 && existsSync(old)) unlinkSync(old);
}

/**
 * One slice of the optimize under way; true when it is over (done or failed). Done: the new index
 * replaces the old one in this same turn (no write can come between the catch-up and the swap), a
 * snapshot publishes it, and a persistence checkpoint keeps its layout across restarts.
 */
function optimizeStep(state: OwnerState): boolean {
  const { job, waiters } = state.rebuild!;
  let report: OptimizeReport;
  try {
    if (!job.step(state.indexed)) return false;
    state.index = job.finish(state.indexed);
    state.published = false;
    publishSnapshot(state);
    if (state.persistence !== null) {
      indexPending(state);
      state.persistence.checkpoint(state.index, state.writer, state.indexed);
    }
    report = {
      namespace: state.config.name,
      entries: job.size,
      tombstonesDropped: job.tombstones,
      groups: job.groups,
      ms: Date.now() - job.startedAt,
      snapshotVersion: state.writer.snapshot().version,
    };
  } catch (error) {
    abandonRebuild(state, 'the rebuild failed', error);
    return true;
  }
  state.rebuild = null;
  for (const waiter of waiters) waiter.resolve(report);
  return true;
}

/** Drops the optimize under way (the old index stays), failing the asks that wait for it. */
function abandonRebuild(state: OwnerState, reason: string, cause?: unknown): void {
  if (state.rebuild === null) return;
  const { waiters } = state.rebuild;
  state.rebuild = null;
  for (const waiter of waiters) waiter.resolve(new ErrorReply(new OptimizeError(state.config.name, reason, cause)));
}

function stats(state: OwnerState): MemoryStats {
  const { writer } = state;
  const committed = writer.committed();
  const snapshot = writer.snapshot();
  return {
    namespace: state.config.name,
    live: Atomics.load(writer.header, H.LIVE),
    written: committed,
    snapshotVersion: snapshot.version,
    snapshotCovered: snapshot.covered,
    tail: committed - snapshot.covered,
    incarnation: Atomics.load(writer.header, H.INCARNATION),
    optimizing: state.rebuild !== null,
  };
}

/** After a crash: the last snapshot is the index; the shared tail adds what came after it. */
function recoverFromShared(state: OwnerState): void {
  const { writer, config } = state;
  const { version, covered } = writer.snapshot();
  if (version > 0) {
    state.index.load(snapshotPath(config, version));
    state.indexed = covered;
    for (let slot = 0; slot < covered; slot++) if (writer.isDeleted(slot) && state.index.contains(BigInt(slot))) state.index.remove(BigInt(slot));
  }
  const end = writer.committed();
  for (let slot = 0; slot < end; slot++) if (!writer.isDeleted(slot)) state.ids.set(writer.record(slot).id, slot);
}

/** At first start with a persistence directory: the checkpoint, then the write log after it. */
async function restoreFromDisk(state: OwnerState): Promise<void> {
  const { writer, config } = state;
  const persisted = Persistence.read(config.persistDir!, config.dimensions);
  if (persisted.records.length === 0 && persisted.log.length === 0) return;
  const restored = persisted.records.length;
  const { dimensions } = config;
  writer.append(config.name, persisted.records.map((r, slot) => ({ vector: persisted.vectors.subarray(slot * dimensions, (slot + 1) * dimensions), record: r.record })));
  persisted.records.forEach((r, slot) => r.deleted && writer.delete(slot));
  if (persisted.indexPath !== null) state.index.load(persisted.indexPath);
  state.indexed = persisted.covered;
  // Slots between the index and the records (a crash mid-checkpoint) go into the index from their rows.
  indexPending(state);
  if (state.indexed > 0) publishSnapshot(state);
  const later = persisted.log.filter((l): l is Extract<typeof l, { op: 'add' }> => l.op === 'add' && l.slot >= restored);
  for await (const part of chunksWithRoom(state, later)) writer.append(config.name, part);
  const deletes = persisted.log.filter((l) => l.op === 'del').map((l) => l.slot);
  markDeleted(state, deletes.filter((slot) => slot < writer.committed()));
  const end = writer.committed();
  for (let slot = 0; slot < end; slot++) if (!writer.isDeleted(slot)) state.ids.set(writer.record(slot).id, slot);
}
