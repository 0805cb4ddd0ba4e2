/** Behaviors of the `runtime` suite. Loaded by URL on the worker threads. */
import { defineBehavior } from '@apiary/runtime';

/** The payload every throughput task sends, runtime and baseline alike. */
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

/** Throws on `crash`, answers `ping`. */
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
