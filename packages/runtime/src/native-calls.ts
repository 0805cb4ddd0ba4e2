import { InvalidArgumentError } from './errors.js';

/*
 * The fence between native calls and thread termination. `worker.terminate()` stops a thread's
 * JavaScript, but a native addon call under way runs on; when it then calls back into Node-API
 * (to make its result, or to throw), the call fails, and an addon built with C++ exceptions (USearch,
 * through node-addon-api) throws a `Napi::Error` nothing can catch: `std::terminate` aborts the whole
 * process, every thread of it. Measured here: a worker looping USearch adds and searches, terminated
 * after a random 5-55 ms, took the process down within 10-60 terminations; fenced, it survived 300.
 *
 * So the pool never terminates a thread inside a native call; and at the process's exit, when Node
 * terminates every worker itself, it first lets the calls under way return (within a bound). Each
 * worker thread shares one 8-byte cell with the main thread: [0] native calls under way (nested ones
 * count), [1] 1 once the pool means to terminate it. The thread counts a call in, then reads the flag; the pool sets the
 * flag, then waits until the count reads 0. Both sides use sequentially consistent atomics, so either
 * the pool sees the call counted, or the thread sees the flag and does not start the call: it parks
 * in `Atomics.wait`, which termination interrupts. A call that never returns keeps its thread from
 * being terminated, but no termination would have stopped it either: V8 only stops JavaScript.
 */

/** Bytes of a thread's native-call cell (two Int32: calls under way, termination wanted). */
export const NATIVE_CELL_BYTES = 8;

const UNDER_WAY = 0;
const CLOSING = 1;

/**
 * The worker-side end: runs synchronous native addon calls inside the thread's fence
 * (`ActorContext.nativeCall`). Made with a null cell it just runs them, as on the main thread, which
 * the pool never terminates; a test harness that runs behaviors without threads wants that too.
 */
export class NativeCalls {
  readonly #cell: Int32Array | null;

  /** `buffer` is the thread's cell; null on the main thread. */
  constructor(buffer: SharedArrayBuffer | null) {
    this.#cell = buffer === null ? null : new Int32Array(buffer, 0, 2);
  }

  /** Runs `fn`, a call into a native addon, so that the thread is not terminated until it returns. */
  run<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'must be a function');
    const cell = this.#cell;
    if (cell === null) return fn();
    // A nested call is covered by the outer one, which the pool is already waiting for.
    if (Atomics.add(cell, UNDER_WAY, 1) === 0 && Atomics.load(cell, CLOSING) === 1) {
      Atomics.sub(cell, UNDER_WAY, 1);
      Atomics.notify(cell, UNDER_WAY);
      // The thread is being terminated: wait for it without entering the addon.
      for (;;) Atomics.wait(cell, CLOSING, 1);
    }
    try {
      return fn();
    } finally {
      if (Atomics.sub(cell, UNDER_WAY, 1) === 1 && Atomics.load(cell, CLOSING) === 1) Atomics.notify(cell, UNDER_WAY);
    }
  }
}

/**
 * The main-thread end: closes the fence of the thread whose cell is `buffer` and resolves once no
 * native call is under way on it; from then on the thread starts none, so it can be terminated.
 */
export async function closeNativeFence(buffer: SharedArrayBuffer): Promise<void> {
  const cell = new Int32Array(buffer, 0, 2);
  Atomics.store(cell, CLOSING, 1);
  for (;;) {
    const underWay = Atomics.load(cell, UNDER_WAY);
    if (underWay === 0) return;
    const waited = Atomics.waitAsync(cell, UNDER_WAY, underWay);
    if (waited.async) await waited.value;
  }
}

/**
 * `closeNativeFence` for the process's 'exit' event, where nothing asynchronous runs: Node then
 * terminates every worker thread, with the same abort. Blocks the main thread until no native call
 * is under way or the epoch ms `until` has passed; true if none is.
 */
export function closeNativeFenceSync(buffer: SharedArrayBuffer, until: number): boolean {
  const cell = new Int32Array(buffer, 0, 2);
  Atomics.store(cell, CLOSING, 1);
  for (;;) {
    const underWay = Atomics.load(cell, UNDER_WAY);
    if (underWay === 0) return true;
    const left = until - Date.now();
    if (left <= 0) return false;
    Atomics.wait(cell, UNDER_WAY, underWay, left);
  }
}
