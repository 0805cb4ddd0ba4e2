import type { Clock } from './clock.js';
import type { BackoffOptions, Strategy, WireSupervisor } from './spec.js';

/**
 * The pure decision logic of one supervisor: restart intensity within a sliding period, backoff per
 * child, and which siblings a strategy touches. No I/O, so it is tested without threads.
 */
export class SupervisorPolicy {
  readonly #clock: Clock;
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff: Required<BackoffOptions> | null;
  /** Times of counted restarts within the period. */
  #restarts: number[] = [];
  /** Incidents already counted (a thread crash fails many children but counts once). */
  readonly #incidents = new Map<string, number>();
  /** Consecutive restarts per child, and when each last (re)started. */
  readonly #streak = new Map<string, { count: number; startedAt: number }>();
  readonly #random: () => number;

  constructor(spec: Pick<WireSupervisor, 'strategy' | 'intensity' | 'periodMs' | 'backoff'>, clock: Clock, random: () => number = Math.random) {
    this.#clock = clock;
    this.strategy = spec.strategy;
    this.intensity = spec.intensity;
    this.periodMs = spec.periodMs;
    this.backoff = spec.backoff;
    this.#random = random;
  }

  /**
   * Records one restart for `incident`; false when that exceeds the intensity (the supervisor must
   * give up and escalate). Restarts caused by the same incident count once.
   */
  allowRestart(incident: string): boolean {
    const now = this.#clock.now();
    const horizon = now - this.periodMs;
    this.#restarts = this.#restarts.filter((t) => t > horizon);
    for (const [key, at] of this.#incidents) if (at <= horizon) this.#incidents.delete(key);
    if (this.#incidents.has(incident)) return true;
    this.#incidents.set(incident, now);
    this.#restarts.push(now);
    return this.#restarts.length <= this.intensity;
  }

  /** Restarts counted in the current period. */
  get recentRestarts(): number {
    const horizon = this.#clock.now() - this.periodMs;
    return this.#restarts.filter((t) => t > horizon).length;
  }

  /** Delay before the next restart of `childId` (ms); also advances its streak. */
  nextDelay(childId: string): number {
    const b = this.backoff;
    const now = this.#clock.now();
    const streak = this.#streak.get(childId) ?? { count: 0, startedAt: now };
    if (b !== null && now - streak.startedAt >= b.resetAfterMs) streak.count = 0;
    const k = streak.count;
    streak.count = k + 1;
    this.#streak.set(childId, streak);
    if (b === null || k === 0) return 0;
    const base = Math.min(b.maxMs, b.minMs * b.factor ** (k - 1));
    const spread = base * b.jitter * (2 * this.#random() - 1);
    return Math.max(0, Math.round(base + spread));
  }

  /** Notes that a child (re)started now: the stable period for its backoff reset starts here. */
  started(childId: string): void {
    const streak = this.#streak.get(childId);
    if (streak !== undefined) streak.startedAt = this.#clock.now();
  }

  /** Forgets a child that left for good. */
  forget(childId: string): void {
    this.#streak.delete(childId);
  }

  /** Which children restart when `failedIndex` fails, in start order. */
  affected<T>(children: readonly T[], failedIndex: number): T[] {
    switch (this.strategy) {
      case 'one-for-one':
        return [children[failedIndex]!];
      case 'one-for-all':
        return [...children];
      case 'rest-for-one':
        return children.slice(failedIndex);
      default: {
        const never: never = this.strategy;
        throw new Error(`unknown strategy ${String(never)}`);
      }
    }
  }
}
