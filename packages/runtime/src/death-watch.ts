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
    if (on) (target.watchers ??= new Set()).add(watcherId);
    else target.watchers?.delete(watcherId);
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

  /** Tells every watcher of `entry` that it terminated. */
  terminated(entry: Entry, signal: Terminated): void {
    for (const watcher of entry.watchers ?? []) this.#signal(watcher, signal);
    for (const resolve of this.#external.get(entry.id) ?? []) resolve(signal);
    this.#external.delete(entry.id);
  }

  #signal(watcherId: string, sig: Terminated): void {
    const watcher = this.#index.byId.get(watcherId);
    if (watcher !== undefined) this.#send(watcher.thread, { t: 'sig', to: watcherId, sig });
  }
}
