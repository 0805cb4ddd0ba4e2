import { defineBehavior, ErrorReply, InvalidArgumentError, toError } from '@apiary/runtime';
import { H, layoutCounts, type EntryRecord, type LayoutCounts } from './shared-state.js';
import { SharedWriter } from './writer.js';
import { RowPrefaulter } from './prefault.js';
import { NamespaceReader, type MemoryHit } from './reader.js';
import { indexOptions, type NamespaceConfig } from './config.js';
import { Persistence } from './persistence.js';
import { checkedEntry, type VectorInput } from './vectors.js';
import { checkEntryFields, type MemoryEntry } from './entry.js';
import { validateFilter, type MetadataFilter } from './filter.js';
import { MemoryStorageError, OptimizeError } from './errors.js';
import type { OptimizeReport } from './layout.js';
import { FencedIndex } from './native-index.js';
import { chunksWithRoom, flush, indexInSlices, markDeleted, publishSnapshot, resetLayout, snapshotDue, type OwnerState } from './owner-state.js';
import { abandonRebuild, optimizeStep, OwnerMustRestart, publishOptimizeFailed, startRebuild } from './owner-optimize.js';
import { autoOptimizeDue } from './auto-optimize.js';
import { recoverFromShared, restoreFromDisk } from './recovery.js';
import { yieldToLoop } from './indexing.js';
import type { RecoverySource } from './events.js';

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
  /** @internal The owner's own: a snapshot the policy wants, queued behind the writes waiting (see `flush`). */
  | { readonly type: 'snapshot-due' }
  | { readonly type: 'stats' }
  | { readonly type: 'flush' };

/** A namespace's figures. */
export interface MemoryStats {
  readonly namespace: string;
  /** Entries that can be found. */
  readonly live: number;
  /**
   * Slots written: live entries, and deleted or replaced ones until a rebuild of the index
   * (`optimize()`, or the automatic one) compacts the slots (see OptimizeReport.slotsReclaimed).
   * A namespace refuses writes past `maxEntries` slots (MemoryCapacityError).
   */
  readonly written: number;
  readonly maxEntries: number;
  /** Bytes of ids, metadata and origins written (replaced entries' included), and the most it takes. */
  readonly recordBytes: number;
  readonly maxRecordBytes: number;
  /** The published snapshot (0: none yet) and how many slots it covers. */
  readonly snapshotVersion: number;
  readonly snapshotCovered: number;
  /** Entries only in the shared tail (searched by brute force until the next snapshot). */
  readonly tail: number;
  /** Times the owner started (1 + restarts). */
  readonly incarnation: number;
  /** Whether an `optimize()` is under way (asked for, or the owner's own: `autoOptimize`). */
  readonly optimizing: boolean;
  /**
   * Entries the index held after its last layout (an `optimize()`; 0: never laid out), and entries
   * written and deleted since (counted when written, indexed or not yet): what `autoOptimize` goes
   * by. They survive a restart of the owner and, in a persistence directory, of the process.
   */
  readonly laidOut: number;
  readonly insertedSinceLayout: number;
  readonly removedSinceLayout: number;
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
      index: new FencedIndex(indexOptions(config), ctx),
      indexed: 0,
      flushQueued: false,
      snapshotQueued: false,
      lastSnapshot: Date.now(),
      lastSnapshotMs: 0,
      published: false,
      timer: null,
      prefaulter: new RowPrefaulter(writer),
      ctx,
      rebuild: null,
      lastWriteAt: Date.now(),
    };
    const started = Date.now();
    let source: RecoverySource | null = null;
    try {
      const incarnation = Atomics.add(writer.header, H.INCARNATION, 1);
      if (incarnation === 0 && config.persistDir !== null) {
        await restoreFromDisk(state);
        if (writer.committed() > 0) source = 'disk';
      } else if (incarnation > 0) {
        await recoverFromShared(state);
        source = 'shared-memory';
      }
      if (config.persistDir !== null) {
        const persistence = new Persistence(config.persistDir, false);
        (state as { persistence: Persistence | null }).persistence = persistence;
        // Start the log afresh from what is committed (after a crash it may hold a write that never was).
        await indexInSlices(state);
        await persistence.checkpoint(state.index, writer, state.indexed);
      }
    } catch (error) {
      throw new MemoryStorageError(config.name, 'recovery', error);
    }
    if (source !== null && ctx.wants('memory-recovered')) {
      const { indexed } = state;
      ctx.publish({ type: 'memory-recovered', time: Date.now(), namespace: config.name, source, live: Atomics.load(writer.header, H.LIVE), indexed, written: writer.committed(), ms: Date.now() - started });
    }
    state.timer = setInterval(() => ctx.tell(ctx.self, { type: 'flush' }), Math.max(10, config.snapshotEveryMs));
    return state;
  },

  async receive(state, message: OwnerMessage, ctx): Promise<unknown> {
    try {
      switch (message.type) {
        case 'add':
          try {
            return await add(state, message.entries, () => ctx.tell(ctx.self, { type: 'flush' }));
          } finally {
            state.lastWriteAt = Date.now();
          }
        case 'delete':
          state.lastWriteAt = Date.now();
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
          return state.reader.search(message.vector, message.k, validateFilter(message.filter), state.ctx) satisfies MemoryHit[];
        }
        case 'snapshot':
          await indexInSlices(state);
          publishSnapshot(state, 'requested');
          return stats(state);
        case 'stats':
          return stats(state);
        case 'optimize': {
          const reply = ctx.deferReply<OptimizeReport>();
          if (state.rebuild === null) await startRebuild(state, 'requested', () => ctx.tell(ctx.self, { type: 'optimize-step' }));
          state.rebuild!.waiters.push(reply);
          return reply;
        }
        case 'optimize-step':
          // Each slice is a message of its own: writes and searches at the owner go on in between,
          // and the event loop turns first (a mailbox drains without it: the heartbeat would starve).
          if (state.rebuild !== null && !(await optimizeStep(state))) {
            await yieldToLoop();
            ctx.tell(ctx.self, { type: 'optimize-step' });
          }
          return undefined;
        case 'snapshot-due':
          state.snapshotQueued = false;
          // Writes that came in meanwhile go into it; a snapshot published meanwhile may have made it moot.
          await indexInSlices(state);
          if (snapshotDue(state)) publishSnapshot(state, 'policy');
          return undefined;
        case 'flush': {
          state.flushQueued = false;
          // Time spent indexing writes counts as writing: during a bulk load the adds queued behind a
          // long flush are not quiet time.
          const before = state.indexed;
          if ((await flush(state)) && !state.snapshotQueued) {
            state.snapshotQueued = true;
            ctx.tell(ctx.self, { type: 'snapshot-due' });
          }
          if (state.indexed !== before) state.lastWriteAt = Date.now();
          const { header, handles } = state.writer;
          const facts = {
            now: Date.now(),
            lastWriteAt: state.lastWriteAt,
            entries: state.index.size(),
            optimizing: state.rebuild !== null,
            written: state.writer.committed(),
            maxEntries: handles.deleted.maxByteLength, // a byte a slot
            live: Atomics.load(header, H.LIVE),
            ...layoutCounts(header),
          };
          if (autoOptimizeDue(state.config.autoOptimize, facts)) {
            try {
              await startRebuild(state, 'auto', () => ctx.tell(ctx.self, { type: 'optimize-step' }));
            } catch (error) {
              // Not again at every tick: like a rebuild that failed later (abandonRebuild).
              resetLayout(state, state.index.size());
              publishOptimizeFailed(state, new OptimizeError(state.config.name, 'the rebuild could not start', error));
            }
          }
          return undefined;
        }
        default: {
          const never: never = message;
          throw new InvalidArgumentError('message', `unknown memory message ${JSON.stringify(never)}`);
        }
      }
    } catch (error) {
      if (error instanceof OwnerMustRestart) throw error.cause;
      // Bad input is the asker's problem: answer with the error, keep the namespace running.
      return new ErrorReply(toError(error));
    }
  },

  preRestart(state) {
    // A restarted owner starts a new timer and reopens the log: this incarnation lets go of its own.
    if (state.timer !== null) clearInterval(state.timer);
    state.prefaulter.stop();
    abandonRebuild(state, 'the owner restarted');
    state.persistence?.close();
    state.reader.close();
  },

  async postStop(state) {
    if (state.timer !== null) clearInterval(state.timer);
    state.prefaulter.stop();
    abandonRebuild(state, 'the owner stopped');
    if (state.persistence !== null) {
      await indexInSlices(state);
      await state.persistence.checkpoint(state.index, state.writer, state.indexed);
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
    return { vector: checkedEntry(name, dimensions, e.vector, i), record, metadataJson: JSON.stringify(record.metadata) };
  });
  state.writer.checkRoom(name, prepared);
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
  state.prefaulter.ahead(prepared.length);
  return { written: prepared.length };
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

const layoutStats = (counts: LayoutCounts): Pick<MemoryStats, 'laidOut' | 'insertedSinceLayout' | 'removedSinceLayout'> => ({
  laidOut: counts.laidOut,
  insertedSinceLayout: counts.insertedSince,
  removedSinceLayout: counts.removedSince,
});

function stats(state: OwnerState): MemoryStats {
  const { writer } = state;
  const committed = writer.committed();
  const snapshot = writer.snapshot();
  return {
    namespace: state.config.name,
    live: Atomics.load(writer.header, H.LIVE),
    written: committed,
    maxEntries: writer.handles.deleted.maxByteLength, // a byte a slot
    recordBytes: Atomics.load(writer.header, H.RECORD_BYTES),
    maxRecordBytes: writer.handles.records.maxByteLength,
    snapshotVersion: snapshot.version,
    snapshotCovered: snapshot.covered,
    tail: committed - snapshot.covered,
    incarnation: Atomics.load(writer.header, H.INCARNATION),
    optimizing: state.rebuild !== null,
    ...layoutStats(layoutCounts(writer.header)),
  };
}
