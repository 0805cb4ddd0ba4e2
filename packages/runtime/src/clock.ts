/**
 * Time as the runtime sees it. Supervisors (restart backoff, intensity windows), ask timeouts and
 * heartbeats read time and set timers only through a Clock, so tests can drive time by hand.
 */
export interface Clock {
  /** Milliseconds, monotonic within one clock. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; cancelling a fired or cancelled timer does nothing. */
  clearTimeout(handle: TimerHandle): void;
}

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: true } | object;

/**
 * The real clock: `performance.now()` and ordinary Node timers. They keep the process alive on
 * purpose (a pending restart or ask is work in progress); the system clears them all on stop.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    return setTimeout(fn, ms);
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
