import { InvalidArgumentError } from './errors.js';

/*
 * Declared blocking sections, the runtime's answer to a known long synchronous call (loading a
 * multi-gigabyte index file, a native library call): the thread cannot answer heartbeats while it
 * runs, and the pool kills a thread silent for `heartbeatTimeoutMs`. Like OTP's dirty schedulers or
 * Akka's blocking dispatchers, the actor says so beforehand, with a bound: each worker thread shares
 * one 8-byte cell with the main thread holding the epoch ms until which its silence is expected,
 * and once the section is over, the epoch ms it ended. The pool's heartbeat check reads it before
 * killing: a thread is dead when it has been silent for `heartbeatTimeoutMs` outside any section (a
 * thread that leaves a long section gets the whole timeout to answer, though the ping it answers
 * was sent long before), so a call that hangs past its bound still costs the thread.
 */

/** Bound of a blocking section (see `ActorContext.blocking`). */
export interface BlockingOptions {
  /** Longest the call may keep the thread from answering heartbeats, in ms (positive, finite). */
  readonly maxMs: number;
}

/** Bytes of a thread's blocking cell (one BigInt64: epoch ms, the bound of the section under way or the end of the last one; 0 before any). */
export const BLOCKING_CELL_BYTES = 8;

/**
 * The worker-side end: runs synchronous calls inside declared sections (`ActorContext.blocking`).
 * Made with a null cell it runs them as the main thread does: checked, with no heartbeat to tell,
 * which is what a test harness that runs behaviors without threads wants.
 */
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
      const ended = BigInt(Date.now());
      Atomics.store(cell, 0, outer > ended ? outer : ended);
    }
  }
}

/**
 * The main-thread end: from when the thread of `buffer` counts as silent, for a ping sent at `sent`
 * (epoch ms): the later of `sent` and the thread's blocking cell (the bound of a section under way,
 * which may lie ahead, or the end of the last one).
 */
export function silentSince(buffer: SharedArrayBuffer, sent: number): number {
  return Math.max(sent, Number(Atomics.load(new BigInt64Array(buffer, 0, 1), 0)));
}
