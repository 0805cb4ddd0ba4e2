import type { Clock, TimerHandle } from './clock.js';
import { AskTimeoutError, deserializeError, type SerializedError } from './errors.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: TimerHandle | null;
  /** Thread the request went to: if it dies, the request fails at once instead of timing out. */
  thread: number;
}

/**
 * The asks and sends one host is waiting on, by number. Replies and acks settle them; a timeout,
 * the death of the thread they went to, or a system stop fails them.
 */
export class PendingRequests {
  readonly #clock: Clock;
  #seq = 0;
  readonly #asks = new Map<number, Pending>();
  readonly #sends = new Map<number, Pending>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Registers an ask to `thread` that fails with AskTimeoutError after `timeoutMs`; returns its number. */
  ask(thread: number, targetPath: string, timeoutMs: number, resolve: (v: unknown) => void, reject: (e: Error) => void): number {
    const a = ++this.#seq;
    const timer = this.#clock.setTimeout(() => {
      if (this.#asks.delete(a)) reject(new AskTimeoutError(targetPath, timeoutMs));
    }, timeoutMs);
    this.#asks.set(a, { resolve, reject, timer, thread });
    return a;
  }

  /** Registers a send to `thread` (its timeout runs at the receiver, which knows when capacity frees). */
  send(thread: number, resolve: () => void, reject: (e: Error) => void): number {
    const s = ++this.#seq;
    this.#sends.set(s, { resolve, reject, timer: null, thread });
    return s;
  }

  /** A reply arrived (a late one, after the timeout, is ignored). */
  reply(a: number, value: unknown, error: SerializedError | undefined): void {
    this.#settle(this.#asks, a, value, error);
  }

  /** A send was accepted (or refused with `error`). */
  ack(s: number, error: SerializedError | undefined): void {
    this.#settle(this.#sends, s, undefined, error);
  }

  /** Fails everything waiting on `thread` (it died). */
  failThread(thread: number, error: SerializedError): void {
    for (const table of [this.#asks, this.#sends]) {
      for (const [n, p] of table) {
        if (p.thread !== thread) continue;
        table.delete(n);
        if (p.timer !== null) this.#clock.clearTimeout(p.timer);
        p.reject(deserializeError(error));
      }
    }
  }

  /** Fails everything (system stop) and clears the timers. */
  failAll(error: Error): void {
    for (const table of [this.#asks, this.#sends]) {
      for (const p of table.values()) {
        if (p.timer !== null) this.#clock.clearTimeout(p.timer);
        p.reject(error);
      }
      table.clear();
    }
  }

  /** Requests still waiting. */
  get size(): number {
    return this.#asks.size + this.#sends.size;
  }

  #settle(table: Map<number, Pending>, n: number, value: unknown, error: SerializedError | undefined): void {
    const p = table.get(n);
    if (p === undefined) return;
    table.delete(n);
    if (p.timer !== null) this.#clock.clearTimeout(p.timer);
    if (error !== undefined) p.reject(deserializeError(error));
    else p.resolve(value);
  }
}
