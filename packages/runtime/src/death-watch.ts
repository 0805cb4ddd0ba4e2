import type { Terminated } from './behavior.js';
import type { Envelope } from './protocol.js';
import { makeRef, type ActorRef } from './ref.js';
import type { Entry, EntryIndex } from './registry.js';

/**
 * DeathWatch: who watches whom, and the Terminated signal when a watched actor stops for good (a
 * restart is not a termination). Watching an actor that is already gone answers at once with
 * reason `not-found`, as in Akka.
 */
export class DeathWatch {
  readonly #index: EntryIndex;
  readonly #send: (thread: number, env: Envelope) => void;
  /** Watchers outside any actor (`system.watch`), by target id. */
  readonly #external = new Map<string, ((t: Terminated) => void)[]>();
  /** What each watcher watches, so a watcher that stops is taken off its targets' lists. */
  readonly #watching = new Map<string, Set<string>>();

  constructor(index: EntryIndex, send: (thread: number, env: Envelope) => void) {
    this.#index = index;
    this.#send = send;
  }

  /** Registers (or cancels) an actor watching another. */
  watch(watcherId: string, targetId: string, on: boolean): void {
    const target = this.#index.byId.get(targetId);
    if (target === undefined) {
      if (on) this.#signal(watcherId, { type: 'terminated', ref: makeRef(targetId, `#${targetId}`, -1), reason: 'not-found' });
      return;
    }
    if (on) {
      (target.watchers ??= new Set()).add(watcherId);
      let targets = this.#watching.get(watcherId);
      if (targets === undefined) this.#watching.set(watcherId, (targets = new Set()));
      targets.add(targetId);
    } else {
      target.watchers?.delete(watcherId);
      this.#watching.get(watcherId)?.delete(targetId);
    }
  }

  /** Resolves when `ref` stops for good. */
  whenTerminated(ref: ActorRef): Promise<Terminated> {
    if (!this.#index.byId.has(ref.id)) return Promise.resolve({ type: 'terminated', ref, reason: 'not-found' });
    return new Promise((resolve) => {
      const list = this.#external.get(ref.id) ?? [];
      list.push(resolve);
      this.#external.set(ref.id, list);
    });
  }

  /** Tells every watcher of `entry` that it terminated, and forgets what `entry` itself watched. */
  terminated(entry: Entry, signal: Terminated): void {
    for (const watcher of entry.watchers ?? []) {
      this.#signal(watcher, signal);
      this.#watching.get(watcher)?.delete(entry.id);
    }
    for (const resolve of this.#external.get(entry.id) ?? []) resolve(signal);
    this.#external.delete(entry.id);
    for (const targetId of this.#watching.get(entry.id) ?? []) this.#index.byId.get(targetId)?.watchers?.delete(entry.id);
    this.#watching.delete(entry.id);
  }

  /** Watch registrations held (for leak checks). */
  get size(): number {
    let n = 0;
    for (const targets of this.#watching.values()) n += targets.size;
    return n;
  }

  #signal(watcherId: string, sig: Terminated): void {
    const watcher = this.#index.byId.get(watcherId);
    if (watcher !== undefined) this.#send(watcher.thread, { t: 'sig', to: watcherId, sig });
  }
}
