import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { layoutCounts, type EntryRecord, type LayoutCounts } from './shared-state.js';
import { yieldToLoop } from './indexing.js';
import type { SharedWriter } from './writer.js';
import type { FencedIndex } from './native-index.js';

/** One line of the write log. */
type LogLine =
  | { readonly op: 'add'; readonly slot: number; readonly record: EntryRecord; readonly vector: string }
  | { readonly op: 'del'; readonly slot: number };

/** What a persistence directory holds, as read back at start. */
export interface Persisted {
  /** Slots below this are in the checkpoint's index file (`indexPath`); 0 and null when there is none. */
  readonly covered: number;
  readonly indexPath: string | null;
  /** Every slot up to the checkpoint (at least `covered`): its record and whether it was deleted. */
  readonly records: readonly { readonly record: EntryRecord; readonly deleted: boolean }[];
  /** The vectors of `records`, row after row. */
  readonly vectors: Float32Array;
  /** The automatic optimize's counts at the checkpoint (null: a directory of an older layout). */
  readonly layout: LayoutCounts | null;
  /** Writes after the checkpoint, in order. */
  readonly log: readonly ({ op: 'add'; slot: number; record: EntryRecord; vector: Float32Array } | { op: 'del'; slot: number })[];
}

const f32ToBase64 = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
const base64ToF32 = (s: string): Float32Array => {
  const bytes = Buffer.from(s, 'base64');
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
};

/**
 * A namespace's persistence directory: a checkpoint (every record and vector below the checkpoint,
 * and the index of them) plus a write log of what came after. Each write is appended to the log
 * before it is acknowledged, so an acknowledged write survives a process restart. (Written with
 * write(2), not fsync'd per write: it survives the process, not the machine losing power, unless
 * `fsync` is set.)
 *
 * Each checkpoint is a directory of its own (`cp-<n>`: records, vectors, index, log), written whole
 * before the file CURRENT is renamed to name it: a crash at any point leaves either the old
 * checkpoint with its log or the new one, never a mix, so a checkpoint may renumber the slots
 * (compaction does). Directories of the layout before (the files in the directory itself) are read
 * once and replaced by the first checkpoint.
 */
export class Persistence {
  /** The log of the current checkpoint: opened by the first `checkpoint()` (the owner makes one at start). */
  #log: number | null = null;

  constructor(
    readonly dir: string,
    readonly fsync: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Reads the directory back (empty when it is new), letting the thread's event loop run between
   * blocks: a namespace of millions of entries takes seconds, and a thread that answers no
   * heartbeat for 5 s is declared dead.
   */
  static async read(dir: string, dimensions: number): Promise<Persisted> {
    const current = currentCheckpoint(dir);
    if (current === null) return readLegacy(dir, dimensions);
    const at = join(dir, current);
    const records = await readRecords(join(at, RECORDS));
    const vectors = await readVectors(join(at, VECTORS), records.length, dimensions);
    const index = join(at, INDEX);
    const layout = existsSync(join(at, LAYOUT)) ? (JSON.parse(readFileSync(join(at, LAYOUT), 'utf8')) as LayoutCounts) : null;
    return { covered: records.length, indexPath: existsSync(index) ? index : null, records, vectors, layout, log: await readLog(join(at, LOG)) };
  }

  logAdds(entries: readonly { slot: number; record: EntryRecord; vector: Float32Array }[]): void {
    this.#append(entries.map((e) => JSON.stringify({ op: 'add', slot: e.slot, record: e.record, vector: f32ToBase64(e.vector) } satisfies LogLine)));
  }

  logDeletes(slots: readonly number[]): void {
    this.#append(slots.map((slot) => JSON.stringify({ op: 'del', slot } satisfies LogLine)));
  }

  /**
   * Writes a checkpoint at `covered` (the owner's index holds every slot below it, and nothing else)
   * with a log of the writes above it, then makes it the current one and drops the others. The
   * event loop runs between blocks of lines (see `read`); the caller's actor takes no message meanwhile.
   */
  async checkpoint(index: FencedIndex, writer: SharedWriter, covered: number): Promise<void> {
    const name = `cp-${nextNumber(this.dir)}`;
    const at = join(this.dir, name);
    mkdirSync(at);
    await writeLines(join(at, RECORDS), covered, (slot) => JSON.stringify({ record: writer.record(slot), deleted: writer.isDeleted(slot) }), this.fsync);
    await writeBytes(join(at, VECTORS), new Uint8Array(writer.vectors.buffer, 0, writer.row(covered) * 4), this.fsync);
    if (covered > 0) index.save(join(at, INDEX));
    writeFile(join(at, LAYOUT), JSON.stringify(layoutCounts(writer.header)), this.fsync);
    const log: string[] = [];
    const end = writer.committed();
    for (let slot = covered; slot < end; slot++) {
      const row = writer.row(slot);
      log.push(JSON.stringify({ op: 'add', slot, record: writer.record(slot), vector: f32ToBase64(writer.vectors.slice(row, row + writer.dimensions)) } satisfies LogLine));
      if (writer.isDeleted(slot)) log.push(JSON.stringify({ op: 'del', slot } satisfies LogLine));
    }
    writeFile(join(at, LOG), log.length === 0 ? '' : log.join('\n') + '\n', this.fsync);
    if (this.fsync) syncDir(at);
    // The switch: one rename. Before it a restart reads the previous checkpoint and its log.
    writeFile(join(this.dir, `${CURRENT}.tmp`), name, this.fsync);
    renameSync(join(this.dir, `${CURRENT}.tmp`), join(this.dir, CURRENT));
    if (this.fsync) syncDir(this.dir);
    if (this.#log !== null) closeSync(this.#log);
    this.#log = openSync(join(at, LOG), 'a');
    for (const entry of readdirSync(this.dir)) {
      if (entry !== name && entry !== CURRENT && (CHECKPOINT_DIR.test(entry) || LEGACY_FILES.test(entry))) rmSync(join(this.dir, entry), { recursive: true, force: true });
    }
  }

  close(): void {
    if (this.#log !== null) closeSync(this.#log);
    this.#log = null;
  }

  #append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    // The owner checkpoints as it starts, before any write: a log is always open here.
    if (this.#log === null) throw new Error(`${this.dir}: a write before the first checkpoint`);
    writeSync(this.#log, lines.join('\n') + '\n');
    if (this.fsync) fsyncSync(this.#log);
  }
}

const CURRENT = 'CURRENT';
const RECORDS = 'records.ndjson';
const VECTORS = 'vectors.f32';
const INDEX = 'index.usearch';
const LOG = 'writes.log';
const LAYOUT = 'layout.json';
const CHECKPOINT_DIR = /^cp-(\d+)$/;
/** Files of the layout before checkpoint directories, and temp files a crash left. */
const LEGACY_FILES = /^(records\.ndjson|vectors\.f32|writes\.log|index-\d+\.usearch|.*\.tmp)$/;

/** The name CURRENT gives, or null (a new directory, or one of the layout before). */
function currentCheckpoint(dir: string): string | null {
  const path = join(dir, CURRENT);
  if (!existsSync(path)) return null;
  const name = readFileSync(path, 'utf8').trim();
  if (!CHECKPOINT_DIR.test(name) || !existsSync(join(dir, name))) throw new Error(`${path} names ${JSON.stringify(name)}, which is not a checkpoint there`);
  return name;
}

/** One more than the highest checkpoint number in `dir` (leftovers of a crash included, so a name is never reused). */
function nextNumber(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir)) max = Math.max(max, Number(CHECKPOINT_DIR.exec(entry)?.[1] ?? 0));
  return max + 1;
}

/**
 * The non-empty lines of the file at `path` (none if there is no file), read a block at a time and
 * decoded line by line: the file as one string would pass V8's longest string (~512 MB), and
 * readFileSync refuses files over 2 GiB.
 */
async function lines<T>(path: string, parse: (line: string) => T): Promise<T[]> {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  const fd = openSync(path, 'r');
  try {
    let carry: Buffer = Buffer.alloc(0);
    const block = Buffer.allocUnsafe(LINE_BLOCK);
    for (;;) {
      const n = readSync(fd, block, 0, LINE_BLOCK, null);
      if (n === 0) break;
      const bytes = carry.length === 0 ? block.subarray(0, n) : Buffer.concat([carry, block.subarray(0, n)]);
      let start = 0;
      for (let end = bytes.indexOf(NEWLINE, start); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
        if (end > start) out.push(parse(bytes.toString('utf8', start, end)));
        start = end + 1;
      }
      carry = Buffer.from(bytes.subarray(start));
      await yieldToLoop();
    }
    if (carry.length > 0) out.push(parse(carry.toString('utf8')));
  } finally {
    closeSync(fd);
  }
  return out;
}

const READ_BLOCK = 1 << 24;
/**
 * Bytes of lines decoded between two turns of the event loop: ~10,000 records, tens of ms. A 16 MB
 * block took up to 0.8 s at 2.5 million records (parsing plus the collections it triggers).
 */
const LINE_BLOCK = 1 << 20;
const NEWLINE = 0x0a;

/** The first `count` vectors of the file at `path`, read a block at a time (readFileSync stops at 2 GiB). */
async function readVectors(path: string, count: number, dimensions: number): Promise<Float32Array> {
  const vectors = new Float32Array(count * dimensions);
  const want = vectors.byteLength;
  const have = existsSync(path) ? statSync(path).size : 0;
  if (have < want) throw new Error(`${path} holds ${Math.floor(have / 4 / dimensions)} vectors of ${dimensions} floats, not the ${count} the records need`);
  if (want === 0) return vectors;
  const bytes = new Uint8Array(vectors.buffer);
  const fd = openSync(path, 'r');
  try {
    for (let at = 0; at < want; ) {
      const n = readSync(fd, bytes, at, Math.min(READ_BLOCK, want - at), at);
      if (n === 0) throw new Error(`${path} ended at byte ${at} of ${want}`);
      at += n;
      await yieldToLoop();
    }
  } finally {
    closeSync(fd);
  }
  return vectors;
}

/** The records file of a checkpoint: one line a slot. */
function readRecords(path: string): Promise<Persisted['records']> {
  return lines(path, (l) => JSON.parse(l) as Persisted['records'][number]);
}

async function readLog(path: string): Promise<Persisted['log'][number][]> {
  const log: Persisted['log'][number][] = [];
  for (const line of await lines(path, (l) => l)) {
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      break; // a line cut by a crash mid-write: it was never acknowledged
    }
    log.push(parsed.op === 'add' ? { op: 'add', slot: parsed.slot, record: parsed.record, vector: base64ToF32(parsed.vector) } : parsed);
  }
  return log;
}

/**
 * A directory of the layout before checkpoint directories: records, vectors and the log in the
 * directory itself, index files named by the slots they cover (renamed into place in the order
 * vectors, records, index, log); the newest index no newer than the records pairs with them.
 */
async function readLegacy(dir: string, dimensions: number): Promise<Persisted> {
  const records = await readRecords(join(dir, RECORDS));
  const vectors = await readVectors(join(dir, VECTORS), records.length, dimensions);
  const covered = (existsSync(dir) ? readdirSync(dir) : [])
    .map((name) => Number(/^index-(\d+)\.usearch$/.exec(name)?.[1] ?? -1))
    .filter((c) => c <= records.length)
    .reduce((a, b) => Math.max(a, b), -1);
  return { covered: Math.max(covered, 0), indexPath: covered < 0 ? null : join(dir, `index-${covered}.usearch`), records, vectors, layout: null, log: await readLog(join(dir, LOG)) };
}

/**
 * Writes `count` lines (`lineOf(0)`, ...), each ending in a newline, a few thousand per write: one
 * string of them all would pass V8's longest string (~512 MB) at a few million records.
 */
async function writeLines(path: string, count: number, lineOf: (i: number) => string, fsync: boolean): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    for (let from = 0; from < count; from += LINES_PER_WRITE) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(count, from + LINES_PER_WRITE); i++) lines.push(lineOf(i));
      writeSync(fd, lines.join('\n') + '\n');
      await yieldToLoop();
    }
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const LINES_PER_WRITE = 4_096;

function writeFile(path: string, content: string, fsync: boolean): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, content);
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` (up to 4 GiB of vectors) a block at a time, the event loop turning between blocks. */
async function writeBytes(path: string, bytes: Uint8Array, fsync: boolean): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < bytes.length; ) {
      at += writeSync(fd, bytes, at, Math.min(bytes.length - at, READ_BLOCK));
      await yieldToLoop();
    }
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries (a rename or a new file) to the disk. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
