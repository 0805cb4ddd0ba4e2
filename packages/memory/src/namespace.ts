import { InvalidArgumentError, type ActorContext, type ActorRef, type AskOptions } from '@apiary/runtime';
import type { NamespaceConfig } from './config.js';
import type { MemoryStats, OwnerMessage } from './owner.js';
import type { OptimizeReport } from './layout.js';
import { checkEntryFields, type MemoryEntry } from './entry.js';
import { NamespaceReader, type MemoryHit } from './reader.js';
import { H, type EntryRecord } from './shared-state.js';
import { checkEntryVector, scaleInto, type VectorInput } from './vectors.js';
import { validateFilter, type MetadataFilter } from './filter.js';
import { PartialAddError, UnknownNamespaceError } from './errors.js';
import type { ThreadContext } from './native-index.js';

/**
 * A namespace as plain data: its configuration (shared buffers included) and its owner. Put it in
 * an actor's props or a message, and `openNamespace` it on any thread.
 */
export interface NamespaceHandle {
  readonly config: NamespaceConfig;
  readonly owner: ActorRef<OwnerMessage, unknown>;
}

/** How a namespace client reaches the owner: `system.ask` on the main thread, `ctx.ask` in an actor. */
export type Ask = (target: ActorRef<OwnerMessage, unknown>, message: OwnerMessage, options?: AskOptions) => Promise<unknown>;

/**
 * What a namespace client takes from the actor it works for (pass the actor's `ctx`): `ask` to
 * reach the owner, `self.path` as the origin of the entries it writes, and `blocking` for the calls
 * of a search that can hold the thread for long, viewing a newly published snapshot (USearch walks
 * the whole file: ~0.4 s a million entries here) and a filtered scan of every entry, so that the
 * heartbeat check does not take a thread busy with a big namespace for a dead one, and `nativeCall`
 * for every call into USearch, so that the runtime never terminates the thread in the middle of one.
 */
export type NamespaceContext = Pick<ActorContext, 'ask' | 'blocking' | 'nativeCall'> & { readonly self: { readonly path: string } };

/** Options of a search. */
export interface SearchOptions {
  /** Results wanted. Default 10. */
  readonly k?: number;
  readonly filter?: MetadataFilter;
  /**
   * `local` (default): on this thread, from the published snapshot plus the shared tail; it sees
   * every write acknowledged before the search started, from any thread. `owner`: asks the owner,
   * which orders the search after every write it received before it (writes still in flight
   * included), at the cost of a round trip.
   */
  readonly consistency?: 'local' | 'owner';
}

/** Entries per `add` message to the owner. */
export const ADD_MESSAGE_ENTRIES = 2_048;

// One reader per namespace per thread, shared by every actor of the thread.
const readers = new Map<string, NamespaceReader>();

/**
 * Staging blocks of this thread, by dimensions: SharedArrayBuffer-backed room for one add message's
 * vectors. A message shares a block rather than copying it, and a block is reused once its message
 * is answered: a fresh 3 MB array per message (384-d) cost more in page faults than its copy (30 to
 * 140 ms per 24,576 rows against ~1.5 ms for writing a reused one, measured here), and so did the
 * copies that cloning it made on both threads. Blocks in use by concurrent calls are not pooled;
 * at most MAX_POOLED wait per size.
 */
const pooled = new Map<number, Float32Array[]>();
const MAX_POOLED = 2;

function takeBlock(dimensions: number): Float32Array {
  return pooled.get(dimensions)?.pop() ?? new Float32Array(new SharedArrayBuffer(ADD_MESSAGE_ENTRIES * dimensions * 4));
}

function giveBack(block: Float32Array): void {
  const dimensions = block.length / ADD_MESSAGE_ENTRIES;
  const free = pooled.get(dimensions) ?? [];
  if (free.length < MAX_POOLED) free.push(block);
  pooled.set(dimensions, free);
}

/**
 * A client of one namespace. Writes go to the namespace's owner; searches run on the calling thread
 * (or at the owner, when asked). Cheap to make: the per-thread reader is shared.
 */
export class MemoryNamespace {
  readonly #handle: NamespaceHandle;
  readonly #ask: Ask;
  readonly #origin: string | null;
  readonly #thread: ThreadContext;
  readonly #header: Int32Array;

  /** @internal Made by `openNamespace` (in an actor) and `VectorMemory` (on the main thread). */
  constructor(handle: NamespaceHandle, ask: Ask, origin: string | null, thread: ThreadContext) {
    this.#handle = handle;
    this.#ask = ask;
    this.#origin = origin;
    this.#thread = thread;
    this.#header = new Int32Array(handle.config.shared.header);
  }

  get name(): string {
    return this.#handle.config.name;
  }

  get dimensions(): number {
    return this.#handle.config.dimensions;
  }

  /** The plain-data handle, to pass to actors on other threads. */
  get handle(): NamespaceHandle {
    return this.#handle;
  }

  /**
   * Writes entries (an existing id is replaced); resolves once every thread can find them. Large
   * batches travel in messages of {@link ADD_MESSAGE_ENTRIES}: one huge message would block both
   * threads while it is cloned. Every entry is checked before the first message leaves, so a bad one
   * fails the call with nothing written; the chunks become visible one after another. A message that
   * fails after others were stored fails the call with PartialAddError, which says how many were.
   */
  async add(entries: MemoryEntry | readonly MemoryEntry[]): Promise<{ readonly written: number }> {
    const list = Array.isArray(entries) ? (entries as readonly MemoryEntry[]) : [entries as MemoryEntry];
    if (list.length === 0) throw new InvalidArgumentError('entries', 'must not be empty');
    const { config } = this.#handle;
    const dims = config.dimensions;
    const scales = Float64Array.from(list, (e, i) => {
      checkEntryFields(e, i);
      return 1 / Math.sqrt(checkEntryVector(config.name, dims, e.vector, i));
    });
    // Each message's vectors are normalised into a staging block of shared memory, which the message
    // shares with the owner instead of copying (see takeBlock). The owner checks them again.
    const block = takeBlock(dims);
    let written = 0;
    for (let from = 0; from < list.length; from += ADD_MESSAGE_ENTRIES) {
      const part = list.slice(from, from + ADD_MESSAGE_ENTRIES).map((e, j) => ({
        ...e,
        vector: scaleInto(e.vector, scales[from + j]!, block.subarray(j * dims, (j + 1) * dims)),
        origin: e.origin ?? this.#origin,
      }));
      try {
        written += ((await this.#ask(this.#handle.owner, { type: 'add', entries: part }, { timeoutMs: 60_000 })) as { written: number }).written;
      } catch (error) {
        // Messages before this one are stored: say how far the list got, or the caller cannot tell.
        throw from === 0 ? error : new PartialAddError(config.name, from, list.length, error);
      }
    }
    // Only once every message is answered: after a failure (a timeout) the owner may still read it.
    giveBack(block);
    return { written };
  }

  /** Deletes entries by id (unknown ids are skipped); resolves with how many were deleted. */
  async delete(ids: string | readonly string[]): Promise<{ readonly deleted: number }> {
    return (await this.#ask(this.#handle.owner, { type: 'delete', ids: typeof ids === 'string' ? [ids] : ids })) as { deleted: number };
  }

  /** The entries of these ids, exactly (null for an id that is not there), from the owner. */
  async get(ids: readonly string[]): Promise<(EntryRecord | null)[]> {
    return (await this.#ask(this.#handle.owner, { type: 'get', ids })) as (EntryRecord | null)[];
  }

  /** The `k` entries most similar to `vector` (cosine), best first. */
  async search(vector: VectorInput, options: SearchOptions = {}): Promise<MemoryHit[]> {
    if (options.consistency !== 'owner') return this.searchNow(vector, options);
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError('k', 'must be an integer >= 1');
    const filter = validateFilter(options.filter);
    return (await this.#ask(this.#handle.owner, { type: 'search', vector: Array.isArray(vector) ? [...vector] : vector, k, ...(filter === undefined ? {} : { filter }) })) as MemoryHit[];
  }

  /**
   * Same as `search` with `local` consistency, synchronously (hot paths that cannot await). Like a
   * local `search`, it blocks this thread while the owner compacts the namespace's slots (the move
   * of a rebuild that compacts: ~25 ms at 100,000 x 384), and a filter that few entries pass makes
   * it scan every entry (README, "Filters").
   */
  searchNow(vector: VectorInput, options: Omit<SearchOptions, 'consistency'> = {}): MemoryHit[] {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError('k', 'must be an integer >= 1');
    return this.#reader().search(vector, k, validateFilter(options.filter), this.#thread);
  }

  /** The namespace's figures, from its owner. */
  async stats(): Promise<MemoryStats> {
    return (await this.#ask(this.#handle.owner, { type: 'stats' })) as MemoryStats;
  }

  /** Indexes everything written and publishes a snapshot now (normally the owner's policy does). */
  async snapshot(): Promise<MemoryStats> {
    return (await this.#ask(this.#handle.owner, { type: 'snapshot' }, { timeoutMs: 120_000 })) as MemoryStats;
  }

  /**
   * Rebuilds the namespace's index from its live entries, similar ones laid out together, and
   * publishes it: searches get faster (p50 -15% at 100,000 x 384 here) and deleted entries leave
   * the graph. Worth it after a bulk load or many deletes; costs about as much owner time as indexing
   * every entry again (~10 s at 100,000 x 384 on two cores). Writes, deletes and searches go on
   * meanwhile; entries written during it are in the new index too. Concurrent calls share one run.
   * Rejects with OptimizeError if the owner restarts or stops first (nothing is lost).
   */
  async optimize(options: { readonly timeoutMs?: number } = {}): Promise<OptimizeReport> {
    return (await this.#ask(this.#handle.owner, { type: 'optimize' }, { timeoutMs: options.timeoutMs ?? 600_000 })) as OptimizeReport;
  }

  #reader(): NamespaceReader {
    const { config } = this.#handle;
    if (Atomics.load(this.#header, H.CLOSED) === 1) {
      // Dropped or stopped: let go of this thread's reader (its viewed snapshot and shared buffers).
      forgetReader(config.fileStem);
      throw new UnknownNamespaceError(config.name);
    }
    let reader = readers.get(config.fileStem);
    if (reader === undefined) {
      forgetClosedReaders(); // namespaces dropped since, which this thread will not search again
      readers.set(config.fileStem, (reader = new NamespaceReader(config)));
    }
    return reader;
  }
}

/** A client of the namespace behind `handle` for the actor whose `ctx` is given, on its thread (see {@link NamespaceContext}). */
export function openNamespace(handle: NamespaceHandle, ctx: NamespaceContext): MemoryNamespace {
  if (typeof handle?.config?.name !== 'string' || !(handle.config.shared?.header instanceof SharedArrayBuffer)) {
    throw new InvalidArgumentError('handle', 'must be a handle from memory.handle(name)');
  }
  if (typeof ctx?.ask !== 'function' || typeof ctx.blocking !== 'function' || typeof ctx.nativeCall !== 'function' || typeof ctx.self?.path !== 'string') {
    throw new InvalidArgumentError('ctx', "must be the actor's context (ask, blocking, nativeCall, self)");
  }
  return new MemoryNamespace(handle, (target, message, options) => ctx.ask(target, message, options), ctx.self.path, ctx);
}

/** @internal The file stems of the namespaces this thread has a reader of (for tests). */
export function openReaders(): string[] {
  return [...readers.keys()];
}

/** Drops this thread's readers of namespaces that were dropped or stopped. */
function forgetClosedReaders(): void {
  for (const [fileStem, reader] of readers) {
    if (Atomics.load(reader.views.header, H.CLOSED) === 1) forgetReader(fileStem);
  }
}

/** @internal Drops this thread's reader of a namespace (its memory stopped). */
export function forgetReader(fileStem: string): void {
  readers.get(fileStem)?.close();
  readers.delete(fileStem);
}
