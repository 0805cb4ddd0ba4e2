import { InvalidArgumentError } from './errors.js';

/*
 * Declared blocking sections, the runtime's answer to a known long synchronous call (loading a
 * multi-gigabyte index file, a native library call): the thread cannot answer heartbeats while it
 * runs, and the pool kills a thread silent for `heartbeatTimeoutMs`. Like OTP's dirty schedulers or
 * Akka's blocking dispatchers, the actor says so beforehand, with a bound: each worker thread shares
 * one 8-byte cell with the main thread holding the epoch ms until which its silence is expected.
 * The pool's heartbeat check reads it before killing; past the bound the usual rule applies again,
 * so a call that hangs for good still costs the thread.
 */

/** Bound of a blocking section (see `ActorContext.blocking`). */
export interface BlockingOptions {
  /** Longest the call may keep the thread from answering heartbeats, in ms (positive, finite). */
  readonly maxMs: number;
}

/** Bytes of a thread's blocking cell (one BigInt64: epoch ms, 0 outside any section). */
export const BLOCKING_CELL_BYTES = 8;

/** The worker-side end: runs synchronous calls inside declared sections. */
export class BlockingSections {
  readonly #cell: BigInt64Array | null;

  /** `buffer` is the thread's cell; null on the main thread, which has no heartbeat to miss. */
  constructor(buffer: SharedArrayBuffer | null) {
    this.#cell = buffer === null ? null : new BigInt64Array(buffer, 0, 1);
  }

  /** Runs `fn` with the thread's silence declared for up to `options.maxMs`; returns its result. */
  run<T>(fn: () => T, options: BlockingOptions): T {
    const maxMs = options?.maxMs;
    if (typeof maxMs !== 'number' || !Number.isFinite(maxMs) || maxMs <= 0) throw new InvalidArgumentError('maxMs', 'must be a positive finite number of milliseconds');
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'must be a function');
    const cell = this.#cell;
    if (cell === null) return fn();
    // Sections nest: the outer bound stays if it is the later one, and comes back when this one ends.
    const outer = Atomics.load(cell, 0);
    const until = BigInt(Math.ceil(Date.now() + maxMs));
    Atomics.store(cell, 0, until > outer ? until : outer);
    try {
      return fn();
    } finally {
      Atomics.store(cell, 0, outer);
    }
  }
}

/** The main-thread end: epoch ms until which the thread of `buffer` declared itself busy (0: none). */
export function blockedUntil(buffer: SharedArrayBuffer): number {
  return Number(Atomics.load(new BigInt64Array(buffer, 0, 1), 0));
}
