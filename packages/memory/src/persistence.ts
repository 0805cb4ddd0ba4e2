import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Index } from 'usearch';
import type { EntryRecord } from './shared-state.js';
import type { SharedWriter } from './writer.js';

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
 * A namespace's persistence directory: a checkpoint (the index file, every record below the
 * checkpoint) plus a write log of what came after. Each write is appended to the log before it is
 * acknowledged, so an acknowledged write survives a process restart. (Written with write(2), not
 * fsync'd per write: it survives the process, not the machine losing power, unless `fsync` is set.)
 */
export class Persistence {
  #log: number;

  constructor(
    readonly dir: string,
    readonly fsync: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
    this.#log = openSync(join(dir, 'writes.log'), 'a');
  }

  /** Reads the directory back (empty when it is new). */
  static read(dir: string, dimensions: number): Persisted {
    const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0) : []);
    const records = lines(join(dir, 'records.ndjson')).map((l) => JSON.parse(l) as { record: EntryRecord; deleted: boolean });
    // Renamed into place before the records, so it holds a row for every record (and maybe more).
    const vectorsPath = join(dir, 'vectors.f32');
    const vectorBytes = existsSync(vectorsPath) ? readFileSync(vectorsPath) : Buffer.alloc(0);
    const vectors = new Float32Array(vectorBytes.buffer, vectorBytes.byteOffset, Math.floor(vectorBytes.byteLength / 4));
    if (records.length > 0 && vectors.length < records.length * dimensions) {
      throw new Error(`${vectorsPath} holds ${vectors.length / dimensions} vectors of ${dimensions} floats, not the ${records.length} the records need`);
    }
    // The newest index no newer than the records (see checkpoint() for why that pair is consistent).
    const covered = indexFiles(dir)
      .filter((c) => c <= records.length)
      .reduce((a, b) => Math.max(a, b), -1);
    const log: Persisted['log'][number][] = [];
    for (const line of lines(join(dir, 'writes.log'))) {
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        break; // a line cut by a crash mid-write: it was never acknowledged
      }
      log.push(parsed.op === 'add' ? { op: 'add', slot: parsed.slot, record: parsed.record, vector: base64ToF32(parsed.vector) } : parsed);
    }
    return { covered: Math.max(covered, 0), indexPath: covered < 0 ? null : join(dir, `index-${covered}.usearch`), records, vectors: vectors.slice(0, records.length * dimensions), log };
  }

  logAdds(entries: readonly { slot: number; record: EntryRecord; vector: Float32Array }[]): void {
    this.#append(entries.map((e) => JSON.stringify({ op: 'add', slot: e.slot, record: e.record, vector: f32ToBase64(e.vector) } satisfies LogLine)));
  }

  logDeletes(slots: readonly number[]): void {
    this.#append(slots.map((slot) => JSON.stringify({ op: 'del', slot } satisfies LogLine)));
  }

  /**
   * Writes a checkpoint at `covered` (the owner's index holds every slot below it) and restarts the
   * log with the writes above it. Files are renamed into place in an order that keeps every crash
   * point readable: records first, then the index (named by what it covers), then the log; a restart
   * pairs the newest index no newer than the records with a log that still reaches back to it.
   */
  checkpoint(index: Index, writer: SharedWriter, covered: number): void {
    const tmp = (name: string): string => join(this.dir, `${name}.tmp`);
    const records: string[] = [];
    for (let slot = 0; slot < covered; slot++) records.push(JSON.stringify({ record: writer.record(slot), deleted: writer.isDeleted(slot) }));
    writeFile(tmp('records.ndjson'), records.length === 0 ? '' : records.join('\n') + '\n', this.fsync);
    writeFile(tmp('vectors.f32'), new Uint8Array(writer.vectors.buffer, 0, writer.row(covered) * 4), this.fsync);
    index.save(tmp('index'));
    const log: string[] = [];
    const end = writer.committed();
    for (let slot = covered; slot < end; slot++) {
      const row = writer.row(slot);
      log.push(JSON.stringify({ op: 'add', slot, record: writer.record(slot), vector: f32ToBase64(writer.vectors.slice(row, row + writer.dimensions)) } satisfies LogLine));
      if (writer.isDeleted(slot)) log.push(JSON.stringify({ op: 'del', slot } satisfies LogLine));
    }
    writeFile(tmp('writes.log'), log.length === 0 ? '' : log.join('\n') + '\n', this.fsync);
    // Vectors before records: whatever point a crash stops at, every record has its row.
    renameSync(tmp('vectors.f32'), join(this.dir, 'vectors.f32'));
    renameSync(tmp('records.ndjson'), join(this.dir, 'records.ndjson'));
    renameSync(tmp('index'), join(this.dir, `index-${covered}.usearch`));
    closeSync(this.#log);
    renameSync(tmp('writes.log'), join(this.dir, 'writes.log'));
    this.#log = openSync(join(this.dir, 'writes.log'), 'a');
    for (const old of indexFiles(this.dir)) if (old !== covered) unlinkSync(join(this.dir, `index-${old}.usearch`));
  }

  close(): void {
    closeSync(this.#log);
  }

  #append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    writeSync(this.#log, lines.join('\n') + '\n');
    if (this.fsync) fsyncSync(this.#log);
  }
}

function writeFile(path: string, content: string | Uint8Array, fsync: boolean): void {
  const fd = openSync(path, 'w');
  try {
    if (typeof content === 'string') writeSync(fd, content);
    else for (let at = 0; at < content.length; ) at += writeSync(fd, content, at, content.length - at);
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The `covered` counts of the index files in `dir`. */
function indexFiles(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^index-(\d+)\.usearch$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
}
