import { statSync } from 'node:fs';
import type { Index } from 'usearch';
import type { ActorContext } from '@apiary/runtime';
import type { NamespaceConfig } from './config.js';

/*
 * USearch saves and loads an index in one synchronous native call: 4.5 s for a 2.5-million-entry
 * index of 16-d vectors here, longer for bigger ones, and a worker thread silent for the heartbeat
 * timeout (5 s) is killed. The owner declares those calls as blocking sections, bounded by the
 * file's size at a disk speed well below what was measured; so does every reader that views a new
 * snapshot (through the context of the actor whose search found it).
 */

/** Where an owner runs a call that holds its thread: its actor context. */
export type BlockingContext = Pick<ActorContext, 'blocking'>;

/** Saves an index to a path (a checkpoint's, a snapshot's); see {@link saveIndex}. */
export type IndexSaver = (index: Index, path: string) => void;

/** Slowest disk the bounds allow for: 20 MB/s (a 2.5-million-entry index file loaded at ~110 MB/s here). */
const SLOWEST_BYTES_PER_MS = 20_000;
/** Least bound of a section: opening files, a cold page cache. */
const LEAST_BOUND_MS = 10_000;

/** The bound of a blocking call that moves `bytes` to or from disk. */
export function ioBoundMs(bytes: number): number {
  return LEAST_BOUND_MS + Math.ceil(bytes / SLOWEST_BYTES_PER_MS);
}

/** An over-estimate of the file `index` saves to: its vectors in f32 plus the graph's links. */
function savedBytes(index: Index, config: NamespaceConfig): number {
  return index.size() * (config.dimensions * 4 + config.connectivity * 2 * 8 + 64);
}

/** `index.save(path)` inside a blocking section. */
export function saveIndex(ctx: BlockingContext, index: Index, path: string, config: NamespaceConfig): void {
  ctx.blocking(() => index.save(path), { maxMs: ioBoundMs(savedBytes(index, config)) });
}

/**
 * `index.view(path)` inside a blocking section: mapping the file is quick, but USearch then walks
 * every node of it (~0.4 s for a million entries here), on every thread that searches.
 */
export function viewIndex(ctx: BlockingContext, index: Index, path: string): void {
  ctx.blocking(() => index.view(path), { maxMs: ioBoundMs(statSync(path).size) });
}

/** `index.load(path)` inside a blocking section. */
export function loadIndex(ctx: BlockingContext, index: Index, path: string): void {
  ctx.blocking(() => index.load(path), { maxMs: ioBoundMs(statSync(path).size) });
}
