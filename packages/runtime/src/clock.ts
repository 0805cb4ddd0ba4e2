/**
 * Time as the runtime sees it. Supervisors (restart backoff, intensity windows), ask timeouts and
 * heartbeats read time and set timers only through a Clock, so tests can drive time by hand.
 */
export interface Clock {
  /** Milliseconds, monotonic within one clock. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; the handle cancels it. Timers must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; cancelling a fired or cancelled timer does nothing. */
  clearTimeout(handle: TimerHandle): void;
}

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: true } | object;

/** The real clock: `performance.now()` and unref'd Node timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
