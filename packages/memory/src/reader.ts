import { existsSync } from 'node:fs';
import { H, readStable, SharedViews, type EntryRecord } from './shared-state.js';
import { dot, normalizeInto, type VectorInput } from './vectors.js';
import { matchesFilter, type MetadataFilter } from './filter.js';
import { indexOptions, snapshotPath, type NamespaceConfig } from './config.js';
import { MemoryStorageError, UnknownNamespaceError } from './errors.js';
import { FencedIndex, type ThreadContext } from './native-index.js';

/** One search result. `score` is the cosine similarity (1 = same direction). */
export interface MemoryHit extends EntryRecord {
  readonly score: number;
}

interface Candidate {
  readonly slot: number;
  readonly score: number;
  /** Decoded already (filtered searches need it); else decoded only if the candidate makes the top k. */
  readonly record?: EntryRecord;
}

/** How long a search waits for a compaction to end before it gives up (one moves ~10 MB a ms). */
const LAYOUT_WAIT_MS = 10_000;

/** Index candidates asked for beyond `k`, so deleted or filtered-out hits still leave k. */
const MAX_CANDIDATES = 4_096;

/** Slowest filtered scan a bound allows for: 50 entries a ms (each record decoded and tested, its row scored; ~1 us here). */
const SLOWEST_SCANNED_PER_MS = 50;

/** The bound of the blocking section of a filtered scan over `entries` entries (at least 1 s). */
export const scanBoundMs = (entries: number): number => 1_000 + Math.ceil(entries / SLOWEST_SCANNED_PER_MS);

/**
 * How many candidates to take from the index for a top `k`: the index ranks by its reduced-precision
 * copy of the vectors (bf16 by default), so a few more than k are scored again exactly and the best
 * k kept. Measured at k = 10 on the suite's data (100,000 x 384, bf16): 10 candidates gave recall@10
 * 0.998 / 0.944 (topical / isotropic), 12 gave 1.000 / 0.970, 13 gave 1.000 / 0.971, 16 no more;
 * each candidate costs a cold row of shared memory (~1 us).
 */
export const candidatePool = (k: number): number => k + Math.max(3, Math.ceil(k * 0.3));

/**
 * A thread's reader of one namespace: it views the latest published snapshot (a memory-mapped file,
 * read-only, shared with every other reader through the page cache), brute-forces the shared rows of
 * entries written since, scores the index's candidates on their exact shared rows too, and merges
 * both. Never blocks on the writer.
 */
export class NamespaceReader {
  readonly views: SharedViews;
  #index: FencedIndex | null = null;
  /** Entries in `#index` (a viewed snapshot never changes, so this is read once). */
  #indexSize = 0;
  #version = 0;
  #covered = 0;
  readonly #query: Float32Array;

  constructor(readonly config: NamespaceConfig) {
    this.views = new SharedViews(config.shared, config.dimensions);
    this.#query = new Float32Array(config.dimensions);
  }

  /** The snapshot this reader searches: version and the slots it covers. */
  get snapshot(): { readonly version: number; readonly covered: number } {
    return { version: this.#version, covered: this.#covered };
  }

  /**
   * Top `k` live entries most similar to `vector`, optionally filtered. The vector is checked and
   * normalised into one buffer this reader keeps: a search is synchronous, and a fresh 384-float
   * array per search cost ~3.7 us to allocate and collect (measured), more than a record decode.
   */
  search(vector: VectorInput, k: number, filter: MetadataFilter | undefined, ctx: ThreadContext): MemoryHit[] {
    if (Atomics.load(this.views.header, H.CLOSED) === 1) throw new UnknownNamespaceError(this.config.name);
    const query = normalizeInto(this.config.name, this.config.dimensions, vector, this.#query, 'search');
    // The owner's compaction moves slots in place (compaction.ts): the search runs when none is
    // under way, and again if one began meanwhile.
    return readStable(
      this.views.header,
      () => this.#search(query, k, filter, ctx),
      LAYOUT_WAIT_MS,
      this.#compactionTimedOut,
    );
  }

  readonly #compactionTimedOut = (): Error =>
    new MemoryStorageError(this.config.name, 'search', new Error(`the owner has been compacting for over ${LAYOUT_WAIT_MS} ms: it stopped during the move`));

  #search(query: Float32Array, k: number, filter: MetadataFilter | undefined, ctx: ThreadContext): MemoryHit[] {
    this.#refresh(ctx);
    const start = this.#covered;
    const end = this.views.committed();
    this.views.cover(end);
    // The common case, a namespace at rest: everything is in the snapshot and no filter applies.
    if (filter === undefined && this.#index !== null && end === start) {
      const hits = this.#indexOnly(query, k);
      if (hits !== null) return hits;
    }
    const candidates: Candidate[] = [];
    this.#scan(query, k, start, end, filter, candidates);
    if (this.#index !== null && !this.#searchIndex(query, k, filter, candidates)) {
      // A filter that few of the index's nearest candidates pass: the index cannot find the best
      // matches that pass it, so its part is scanned too (exact, and slower: README, "Filters"). At
      // millions of entries that is seconds of one turn: a declared blocking section.
      ctx.blocking(() => this.#scan(query, k, 0, start, filter, candidates), { maxMs: scanBoundMs(start) });
    }
    return this.#best(candidates, k);
  }

  /**
   * The top `k` from the snapshot alone: with no tail there is nothing to merge, and no id has two
   * live slots (a replaced entry's old slot is marked deleted before any snapshot holds the new one).
   * Null when deletions leave fewer than k of the candidates asked for.
   */
  #indexOnly(query: Float32Array, k: number): MemoryHit[] | null {
    const size = this.#indexSize;
    const deletions = Atomics.load(this.views.header, H.COMMITTED) > Atomics.load(this.views.header, H.LIVE);
    const want = Math.min(size, candidatePool(k) + (deletions ? 8 : 0));
    const keys = this.#index!.search(query, want, 1);
    const deleted = this.views.deleted;
    const live = slotsOf(keys).filter((slot) => deleted[slot] === 0);
    if (live.length < Math.min(k, size) && want < size) return null;
    const exact = this.#exactScores(query, live);
    const best = live.map((slot, i) => ({ slot, score: exact[i]! })).sort((a, b) => b.score - a.score).slice(0, k);
    return this.views.records(best.map((c) => c.slot)).map((record, i) => hit(record, best[i]!.score));
  }

  /** Exact scores of `slots` on their shared rows (prefetched together: see SharedViews.prefetch). */
  #exactScores(query: Float32Array, slots: readonly number[]): number[] {
    this.views.prefetch(slots);
    const vectors = this.views.vectors;
    return slots.map((slot) => dot(query, vectors, this.views.row(slot)));
  }

  /**
   * The best `k` candidates, one per id, records decoded only for those. An update writes a new slot
   * before it marks the old one deleted: when both are seen, the newer slot is the entry.
   */
  #best(candidates: Candidate[], k: number): MemoryHit[] {
    candidates.sort((a, b) => b.score - a.score || b.slot - a.slot);
    const out: MemoryHit[] = [];
    const slots: number[] = [];
    // Ids are looked up linearly among at most k hits: for the usual small k that beats a Map,
    // which would be allocated on every search.
    const byMap = k > 32 ? new Map<string, number>() : null;
    for (const c of candidates) {
      const record = c.record ?? this.views.record(c.slot);
      const i = byMap !== null ? (byMap.get(record.id) ?? -1) : indexOfId(out, record.id);
      if (i === -1) {
        if (out.length === k) continue; // only a newer slot of an id already in may still come
        byMap?.set(record.id, out.length);
        slots.push(c.slot);
        out.push(hit(record, c.score));
      } else if (c.slot > slots[i]!) {
        slots[i] = c.slot;
        out[i] = hit(record, c.score);
      }
    }
    return out.sort((a, b) => b.score - a.score);
  }

  /** Releases the viewed snapshot. */
  close(): void {
    this.#index = null;
  }

  /** Views the latest snapshot if it is not the one viewed, through `ctx`, the thread's calls (see native-index.ts). */
  #refresh(ctx: ThreadContext): void {
    for (;;) {
      const { version, covered } = this.views.snapshot();
      if (version === this.#version) return;
      if (version === 0) {
        this.#index = null;
        this.#indexSize = 0;
      } else {
        const path = snapshotPath(this.config, version);
        const index = new FencedIndex(indexOptions(this.config), ctx);
        try {
          index.view(path);
        } catch (error) {
          // The owner unlinks a snapshot once a newer one is out; if that raced us, read the newer one.
          if (!existsSync(path) && this.views.snapshot().version !== version) continue;
          throw error;
        }
        this.#indexSize = index.size();
        // A snapshot of an index every entry of which was deleted has nothing to search (and USearch
        // refuses a search for 0 neighbours).
        this.#index = this.#indexSize > 0 ? index : null;
      }
      this.#version = version;
      this.#covered = covered;
      return;
    }
  }

  /** Scores slots [start, end) by brute force (those that pass `filter`), adding the best k to `out`. */
  #scan(query: Float32Array, k: number, start: number, end: number, filter: MetadataFilter | undefined, out: Candidate[]): void {
    // Keep the k best above a running floor; without a filter, decode records only for those that make it.
    const top: Candidate[] = [];
    const { vectors, deleted } = this.views;
    for (let slot = start; slot < end; slot++) {
      // A plain read: `committed` (read with Atomics) already orders the slot's writes before us, and
      // a delete that races the scan may go either way, as it would a moment earlier or later.
      if (deleted[slot] !== 0) continue;
      let record: EntryRecord | undefined;
      if (filter !== undefined) {
        record = this.views.record(slot);
        if (!matchesFilter(record, filter)) continue;
      }
      const score = dot(query, vectors, this.views.row(slot));
      if (top.length === k && score <= top[k - 1]!.score) continue;
      let i = top.length;
      while (i > 0 && top[i - 1]!.score < score) i--;
      top.splice(i, 0, record === undefined ? { slot, score } : { slot, score, record });
      if (top.length > k) top.pop();
    }
    for (const t of top) out.push(t);
  }

  /**
   * Adds the index's candidates to `out`; false when a filter left fewer than k of them even at
   * MAX_CANDIDATES (then nothing was added: the caller scans the index's part instead).
   */
  #searchIndex(query: Float32Array, k: number, filter: MetadataFilter | undefined, out: Candidate[]): boolean {
    const index = this.#index!;
    const size = this.#indexSize;
    const deleted = this.views.deleted;
    // Deleted entries still sit in a snapshot until the next one: ask for a few more only when there
    // are any, and more when a filter will drop some.
    const pool = candidatePool(k);
    let want = Math.min(size, filter === undefined ? pool + (Atomics.load(this.views.header, H.COMMITTED) > Atomics.load(this.views.header, H.LIVE) ? 8 : 0) : pool * 4);
    // Slots taken in an earlier round, when a round found too few (the first round needs no set).
    let seen: Set<number> | null = null;
    const mine: Candidate[] = [];
    for (;;) {
      const keys = index.search(query, want, 1);
      let found = 0;
      const taken: { slot: number; record: EntryRecord | undefined }[] = [];
      for (const slot of slotsOf(keys)) {
        if (deleted[slot] !== 0) continue;
        let record: EntryRecord | undefined;
        if (filter !== undefined) {
          record = this.views.record(slot);
          if (!matchesFilter(record, filter)) continue;
        }
        found++;
        if (seen !== null) {
          if (seen.has(slot)) continue; // asked again for more: keep each slot once
          seen.add(slot);
        }
        taken.push({ slot, record });
      }
      const scores = this.#exactScores(query, taken.map((t) => t.slot));
      taken.forEach(({ slot, record }, i) => mine.push(record === undefined ? { slot, score: scores[i]! } : { slot, score: scores[i]!, record }));
      if (found >= pool || want >= size || (want >= MAX_CANDIDATES && (filter === undefined || found >= k))) {
        for (const c of mine) out.push(c);
        return true;
      }
      if (want >= MAX_CANDIDATES) return false;
      if (seen === null) seen = new Set(mine.map((c) => c.slot));
      want = Math.min(size, MAX_CANDIDATES, want * 4);
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * A search's keys (slots, below 2^32) as numbers. Reading a BigUint64Array makes a BigInt per
 * element; on a little-endian machine the low 32-bit word of each key is read instead.
 */
function slotsOf(keys: BigUint64Array): number[] {
  const out: number[] = [];
  if (LITTLE_ENDIAN) {
    const words = new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2);
    for (let i = 0; i < keys.length; i++) out.push(words[i * 2]!);
  } else {
    for (let i = 0; i < keys.length; i++) out.push(Number(keys[i]));
  }
  return out;
}

/** A search result: the record's fields and the score, built field by field (a spread costs more on the hot path). */
const hit = (record: EntryRecord, score: number): MemoryHit => ({ id: record.id, metadata: record.metadata, origin: record.origin, at: record.at, score });

function indexOfId(hits: readonly MemoryHit[], id: string): number {
  for (let i = 0; i < hits.length; i++) if (hits[i]!.id === id) return i;
  return -1;
}
