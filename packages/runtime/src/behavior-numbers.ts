import type { Envelope, StartSpec } from './protocol.js';

/**
 * Numbers for behaviors, so a start carries a small integer instead of a module URL. Each thread is
 * told a number once (a `def` envelope on the same link, ahead of the start that uses it); a
 * replacement thread starts knowing none.
 */
export class BehaviorNumbers {
  readonly #send: (thread: number, env: Envelope) => void;
  readonly #byKey = new Map<string, number>();
  /** Numbers cached on the shared, immutable descriptor objects (no string building per spawn). */
  readonly #byDescriptor = new WeakMap<object, number>();
  /** Numbers each thread has been told. */
  readonly #told = new Map<number, Set<number>>();

  constructor(send: (thread: number, env: Envelope) => void) {
    this.#send = send;
  }

  /** The number of a behavior on `thread`, telling the thread first when it does not know it. */
  define(thread: number, module: string, exportName: string, descriptor?: object): number {
    const b = this.#number(module, exportName, descriptor);
    let told = this.#told.get(thread);
    if (told === undefined) this.#told.set(thread, (told = new Set()));
    if (!told.has(b)) {
      told.add(b);
      this.#send(thread, { t: 'def', b, module, exportName });
    }
    return b;
  }

  /** `thread` was replaced: it knows no numbers. */
  forget(thread: number): void {
    this.#told.delete(thread);
  }

  /** The replacement's first envelopes: each behavior's `def`, then a reservation per actor. */
  preamble(thread: number, actors: readonly { module: string; exportName: string; spec(b: number): StartSpec }[]): Envelope[] {
    const out: Envelope[] = [];
    const told = new Set<number>();
    for (const actor of actors) {
      const b = this.#number(actor.module, actor.exportName);
      if (!told.has(b)) {
        told.add(b);
        out.push({ t: 'def', b, module: actor.module, exportName: actor.exportName });
      }
      out.push({ t: 'reserve', spec: actor.spec(b) });
    }
    this.#told.set(thread, told);
    return out;
  }

  #number(module: string, exportName: string, descriptor?: object): number {
    let b = descriptor === undefined ? undefined : this.#byDescriptor.get(descriptor);
    if (b !== undefined) return b;
    const key = `${module}#${exportName}`;
    b = this.#byKey.get(key);
    if (b === undefined) this.#byKey.set(key, (b = this.#byKey.size + 1));
    if (descriptor !== undefined) this.#byDescriptor.set(descriptor, b);
    return b;
  }
}
