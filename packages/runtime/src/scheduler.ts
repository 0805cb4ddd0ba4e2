import type { ActorCell } from './cell.js';
import type { Lifecycle } from './lifecycle.js';
import { Deque } from './mailbox.js';

/** Messages one actor processes before the scheduler moves on to the next (fairness). */
const THROUGHPUT = 64;
/** Messages one drain processes before yielding to the event loop (I/O, timers, heartbeats). */
const DRAIN_BUDGET = 20_000;

/**
 * A host's fair run queue: actors with messages wait in turn, each runs up to THROUGHPUT messages
 * before the next, and a drain yields to the event loop after DRAIN_BUDGET messages so that timers,
 * I/O and the heartbeat are not starved by a busy thread.
 */
export class Scheduler {
  readonly #runQueue = new Deque<ActorCell>(64);
  #drainScheduled = false;
  #draining = false;
  readonly #drainBound = (): void => this.#drain();
  readonly #lifecycle: Lifecycle;

  constructor(lifecycle: Lifecycle) {
    this.#lifecycle = lifecycle;
  }

  /** Puts a runnable actor on the run queue (once: a scheduled actor stays in its place). */
  schedule(cell: ActorCell): void {
    if (cell.scheduled) return;
    cell.scheduled = true;
    this.#runQueue.push(cell);
    if (!this.#drainScheduled && !this.#draining) {
      this.#drainScheduled = true;
      queueMicrotask(this.#drainBound);
    }
  }

  #drain(): void {
    this.#drainScheduled = false;
    this.#draining = true;
    let budget = DRAIN_BUDGET;
    try {
      for (let cell = this.#runQueue.shift(); cell !== undefined; cell = this.#runQueue.shift()) {
        cell.scheduled = false;
        budget -= this.#lifecycle.run(cell, THROUGHPUT);
        if (budget <= 0 && this.#runQueue.size > 0) {
          // Yield so timers, I/O and heartbeats get a turn, then carry on.
          this.#drainScheduled = true;
          setImmediate(this.#drainBound);
          return;
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
