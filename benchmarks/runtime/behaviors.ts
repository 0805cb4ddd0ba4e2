/** Behaviors of the `runtime` suite. Loaded by URL on the worker threads. */
import { defineBehavior } from '@apiary/runtime';

/** The payload every throughput and latency task sends, runtime and baseline alike. */
export interface Payload {
  readonly i: number;
  readonly text: string;
}

/** Counts messages; `sync` answers the count (FIFO per sender: it comes after everything sent before). */
export const sink = defineBehavior(import.meta.url, 'sink', {
  setup: () => ({ count: 0 }),
  receive(state, msg: Payload | 'sync') {
    if (msg === 'sync') return state.count;
    state.count++;
    return undefined;
  },
});

/** Answers with what it got. */
export const echo = defineBehavior(import.meta.url, 'echo', {
  setup: () => ({}),
  receive: (_state, msg: Payload) => msg,
});

/** Throws on `crash`; `ping` answers how many pings this incarnation has seen (1 right after a restart). */
export const fragile = defineBehavior(import.meta.url, 'fragile', {
  setup: () => ({ pings: 0 }),
  receive(state, msg: 'crash' | 'ping') {
    if (msg === 'crash') throw new Error('crash on purpose');
    return ++state.pings;
  },
});

/** Does nothing: the idle actor of the memory figure. */
export const idle = defineBehavior(import.meta.url, 'idle', {
  setup: () => ({}),
  receive: () => undefined,
});

/**
 * Reads the heap of the thread it runs on, after a full GC of that thread when the process runs
 * with --expose-gc (V8 flags are process-wide, so worker isolates get `gc` too). `process.memoryUsage()`
 * inside a worker reports that worker's isolate heap; `rss` is the whole process.
 */
export const heapProbe = defineBehavior(import.meta.url, 'heapProbe', {
  setup: () => ({}),
  receive(_state, _msg: 'measure') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    return { heapUsed: process.memoryUsage().heapUsed, gc: gc !== undefined };
  },
});
