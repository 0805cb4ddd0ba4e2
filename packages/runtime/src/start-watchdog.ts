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
  readonly #deadlines = new Map<Entry, number>();
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(clock: Clock, onTimeout: (entry: Entry) => void) {
    this.#clock = clock;
    this.#onTimeout = onTimeout;
  }

  /** Watches the start the entry is waiting for now (its `onStarted`). */
  watch(entry: Entry): void {
    const timeout = entry.wire.startTimeoutMs;
    if (!Number.isFinite(timeout) || this.#stopped) return;
    this.#deadlines.set(entry, this.#clock.now() + timeout);
    this.#timer ??= this.#clock.setTimeout(() => this.#sweep(), Math.min(timeout, SWEEP_MS));
  }

  /** Stops sweeping (system shutdown). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#deadlines.clear();
  }

  #sweep(): void {
    this.#timer = null;
    const now = this.#clock.now();
    for (const [entry, deadline] of this.#deadlines) {
      if (entry.onStarted === null) {
        this.#deadlines.delete(entry); // started, or failed, meanwhile
        continue;
      }
      if (deadline > now) continue;
      this.#deadlines.delete(entry);
      this.#onTimeout(entry);
    }
    if (this.#deadlines.size > 0 && !this.#stopped) this.#timer = this.#clock.setTimeout(() => this.#sweep(), SWEEP_MS);
  }
}
