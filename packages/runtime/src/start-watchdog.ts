import type { Clock, TimerHandle } from './clock.js';
import type { Entry } from './registry.js';

/** How often pending starts are checked against their deadlines. */
const SWEEP_MS = 250;

/**
 * Fails starts (spawns and restarts) whose host has not reported within the entry's start timeout,
 * so a hung `setup` cannot block a supervisor or `stop()`. One sweep timer serves every pending
 * start: a timer per spawn would cost more than the spawn. A start fails within its timeout plus at
 * most one sweep period.
 */
export class StartWatchdog {
  readonly #clock: Clock;
  readonly #onTimeout: (entry: Entry) => void;
  /**
   * Pending starts by the sweep period in which they fall due: [entry, its waiter, entry, waiter...].
   * Appending to an array is the cheapest record per spawn; at due time a start still waiting with
   * the same waiter has timed out, any other has settled and is skipped.
   */
  readonly #buckets = new Map<number, unknown[]>();
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(clock: Clock, onTimeout: (entry: Entry) => void) {
    this.#clock = clock;
    this.#onTimeout = onTimeout;
  }

  /** Watches the start the entry is waiting for now (its `onStarted`). */
  watch(entry: Entry): void {
    const timeout = entry.wire.startTimeoutMs;
    if (!Number.isFinite(timeout) || this.#stopped || entry.onStarted === null) return;
    const due = Math.ceil((this.#clock.now() + timeout) / SWEEP_MS);
    let bucket = this.#buckets.get(due);
    if (bucket === undefined) this.#buckets.set(due, (bucket = []));
    bucket.push(entry, entry.onStarted);
    this.#timer ??= this.#clock.setTimeout(() => this.#sweep(), Math.min(timeout, SWEEP_MS));
  }

  /** Stops sweeping (system shutdown). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#buckets.clear();
  }

  #sweep(): void {
    this.#timer = null;
    const now = Math.floor(this.#clock.now() / SWEEP_MS);
    for (const [due, bucket] of this.#buckets) {
      if (due > now) continue;
      this.#buckets.delete(due);
      for (let i = 0; i < bucket.length; i += 2) {
        const entry = bucket[i] as Entry;
        if (entry.onStarted !== null && entry.onStarted === bucket[i + 1]) this.#onTimeout(entry);
      }
    }
    if (this.#buckets.size > 0 && !this.#stopped) this.#timer = this.#clock.setTimeout(() => this.#sweep(), SWEEP_MS);
  }
}
